package io.hodei.pool.provider.kubernetes;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Kubernetes pool's {@code provider_config}, read strictly: unknown keys, wrong types and bad values are reported
 * as {@code field: message} strings (the API answers 422 with them).
 *
 * @param namespace              where the pool's pods and token Secret live
 * @param image                  the agent image (the project's image: its entrypoint is the server jar)
 * @param imagePullPolicy        Always, IfNotPresent or Never; null: the cluster's default
 * @param server                 HOST:PORT of the server's gRPC listener as pods reach it
 * @param masterUrl              the API server; null: fabric8's discovery (kubeconfig or in-cluster account)
 * @param registerTimeoutSeconds how long a new pod's agent has to register before the provisioning fails
 * @param nodeSelector           the pods' node selector
 * @param tolerations            the pods' tolerations, as Kubernetes spells them (key, operator, value, effect,
 *                               tolerationSeconds)
 * @param serviceAccount         the pods' service account; null: the namespace's default
 */
record KubernetesConfig(String namespace, String image, String imagePullPolicy, String server, String masterUrl,
                        int registerTimeoutSeconds, Map<String, String> nodeSelector, List<JsonObject> tolerations,
                        String serviceAccount) {

  static final String NAMESPACE = "namespace";
  static final String IMAGE = "image";
  static final String IMAGE_PULL_POLICY = "image_pull_policy";
  static final String SERVER = "server";
  static final String MASTER_URL = "master_url";
  static final String REGISTER_TIMEOUT = "register_timeout_seconds";
  static final String NODE_SELECTOR = "node_selector";
  static final String TOLERATIONS = "tolerations";
  static final String SERVICE_ACCOUNT = "service_account";
  static final List<String> KEYS = List.of(NAMESPACE, IMAGE, IMAGE_PULL_POLICY, SERVER, MASTER_URL, REGISTER_TIMEOUT,
      NODE_SELECTOR, TOLERATIONS, SERVICE_ACCOUNT);

  static final String DEFAULT_NAMESPACE = "default";
  static final int DEFAULT_REGISTER_TIMEOUT_SECONDS = 120;

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final Pattern LABEL_KEY = Pattern.compile("([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?"
      + "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
  private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
  private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9.]{0,252})?:[0-9]{1,5}");
  private static final Set<String> PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");
  private static final Set<String> OPERATORS = Set.of("Exists", "Equal");
  private static final Set<String> EFFECTS = Set.of("NoSchedule", "PreferNoSchedule", "NoExecute");
  private static final Set<String> TOLERATION_KEYS = Set.of("key", "operator", "value", "effect", "toleration_seconds");

  /** Defaults a server gives every Kubernetes pool: the image, and the gRPC address pods dial (null: none). */
  record Defaults(String image, String server) {}

  /** The config, or the problems that make it invalid. */
  record Parsed(KubernetesConfig config, List<String> errors) {}

  static Parsed parse(JsonObject raw, Defaults defaults) {
    JsonObject c = raw == null ? new JsonObject() : raw;
    List<String> errors = new ArrayList<>();
    for (String key : c.fieldNames()) {
      if (!KEYS.contains(key)) errors.add(key + ": unknown key; allowed: " + String.join(", ", KEYS));
    }
    String namespace = string(c, NAMESPACE, DEFAULT_NAMESPACE, errors);
    if (!DNS_LABEL.matcher(namespace).matches()) {
      errors.add(NAMESPACE + ": must be a DNS label (lower-case letters, digits and '-', at most 63)");
    }
    String image = string(c, IMAGE, defaults.image(), errors);
    if (image.isBlank() || image.length() > 512 || image.chars().anyMatch(Character::isWhitespace)) {
      errors.add(IMAGE + ": must be an image reference without spaces (at most 512 characters)");
    }
    String pullPolicy = string(c, IMAGE_PULL_POLICY, null, errors);
    if (pullPolicy != null && !PULL_POLICIES.contains(pullPolicy)) {
      errors.add(IMAGE_PULL_POLICY + ": must be one of Always, IfNotPresent, Never");
    }
    String server = string(c, SERVER, defaults.server(), errors);
    if (server == null) {
      errors.add(SERVER + ": required: HOST:PORT of the server's gRPC listener as the pods reach it");
    } else if (!HOST_PORT.matcher(server).matches() || port(server) < 1 || port(server) > 65535) {
      errors.add(SERVER + ": must be HOST:PORT (port 1-65535)");
    }
    String masterUrl = string(c, MASTER_URL, null, errors);
    if (masterUrl != null && !isHttpUrl(masterUrl)) errors.add(MASTER_URL + ": must be an http(s) URL");
    int timeout = DEFAULT_REGISTER_TIMEOUT_SECONDS;
    Object t = c.getValue(REGISTER_TIMEOUT);
    if (t != null) {
      if (t instanceof Integer || t instanceof Long) {
        long v = ((Number) t).longValue();
        if (v < 5 || v > 3600) errors.add(REGISTER_TIMEOUT + ": must be between 5 and 3600");
        else timeout = (int) v;
      } else {
        errors.add(REGISTER_TIMEOUT + ": must be a whole number of seconds");
      }
    }
    Map<String, String> nodeSelector = nodeSelector(c.getValue(NODE_SELECTOR), errors);
    List<JsonObject> tolerations = tolerations(c.getValue(TOLERATIONS), errors);
    String serviceAccount = string(c, SERVICE_ACCOUNT, null, errors);
    if (serviceAccount != null && !DNS_SUBDOMAIN.matcher(serviceAccount).matches()) {
      errors.add(SERVICE_ACCOUNT + ": must be a DNS subdomain name");
    }
    return new Parsed(errors.isEmpty() ? new KubernetesConfig(namespace, image, pullPolicy, server, masterUrl,
        timeout, nodeSelector, tolerations, serviceAccount) : null, List.copyOf(errors));
  }

  private static String string(JsonObject c, String key, String defaultValue, List<String> errors) {
    Object v = c.getValue(key);
    if (v == null) return defaultValue;
    if (!(v instanceof String s) || s.isBlank()) {
      errors.add(key + ": must be a non-empty string");
      return defaultValue == null ? "invalid" : defaultValue;
    }
    return s.trim();
  }

  private static int port(String hostPort) {
    try {
      return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static boolean isHttpUrl(String url) {
    try {
      URI uri = URI.create(url);
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static Map<String, String> nodeSelector(Object value, List<String> errors) {
    Map<String, String> result = new LinkedHashMap<>();
    if (value == null) return result;
    if (!(value instanceof JsonObject object)) {
      errors.add(NODE_SELECTOR + ": must be an object of label keys to values");
      return result;
    }
    for (Map.Entry<String, Object> e : object) {
      if (!LABEL_KEY.matcher(e.getKey()).matches()) {
        errors.add(NODE_SELECTOR + "." + e.getKey() + ": not a valid label key");
      } else if (!(e.getValue() instanceof String v) || !LABEL_VALUE.matcher(v).matches()) {
        errors.add(NODE_SELECTOR + "." + e.getKey() + ": must be a label value (string, at most 63 characters)");
      } else {
        result.put(e.getKey(), v);
      }
    }
    return result;
  }

  private static List<JsonObject> tolerations(Object value, List<String> errors) {
    List<JsonObject> result = new ArrayList<>();
    if (value == null) return result;
    if (!(value instanceof JsonArray array)) {
      errors.add(TOLERATIONS + ": must be an array of tolerations");
      return result;
    }
    for (int i = 0; i < array.size(); i++) {
      String where = TOLERATIONS + "[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject t)) {
        errors.add(where + ": must be an object");
        continue;
      }
      int before = errors.size();
      t.fieldNames().stream().filter(k -> !TOLERATION_KEYS.contains(k))
          .forEach(k -> errors.add(where + "." + k + ": unknown key; allowed: " + String.join(", ", TOLERATION_KEYS)));
      Object key = t.getValue("key");
      Object operator = t.getValue("operator");
      Object effect = t.getValue("effect");
      Object seconds = t.getValue("toleration_seconds");
      if (key != null && (!(key instanceof String k) || !LABEL_KEY.matcher(k).matches())) {
        errors.add(where + ".key: not a valid label key");
      }
      if (operator != null && !OPERATORS.contains(operator)) errors.add(where + ".operator: must be Exists or Equal");
      if (t.getValue("value") != null && !(t.getValue("value") instanceof String)) {
        errors.add(where + ".value: must be a string");
      }
      if (effect != null && !EFFECTS.contains(effect)) {
        errors.add(where + ".effect: must be NoSchedule, PreferNoSchedule or NoExecute");
      }
      if (seconds != null && !(seconds instanceof Integer || seconds instanceof Long)) {
        errors.add(where + ".toleration_seconds: must be a whole number");
      }
      if (errors.size() == before) result.add(t.copy());
    }
    return result;
  }
}
