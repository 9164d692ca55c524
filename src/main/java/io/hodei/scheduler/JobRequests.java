package io.hodei.scheduler;

import io.hodei.common.Ids;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.JsonInput;
import io.hodei.common.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/** Reads and validates job submissions; nothing here touches state. */
final class JobRequests {
  static final int MAX_BATCH = 1000;
  static final int MAX_ARGS = 256;
  static final int MAX_COMMAND_BYTES = 64 * 1024;
  static final int MAX_PAYLOAD_BYTES = 64 * 1024;
  static final int MAX_ENV = 64;
  static final long MAX_CPU_M = 1_000_000;
  static final long MAX_MEMORY_MB = 10_000_000;
  static final int MAX_TIMEOUT_S = 7 * 24 * 3600;
  static final int MAX_QUEUE_S = 30 * 24 * 3600;
  static final int MAX_ATTEMPTS = 20;
  static final int MAX_IDEMPOTENCY_KEY = 200;
  private static final Pattern ENV_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
  private static final String[] FIELDS = {"tenant_id", "name", "command", "env", "payload", "labels", "priority",
      "cpu_m", "memory_mb", "pool_id", "pool_labels", "timeout_s", "max_attempts", "sla_deadline", "sla_seconds",
      "max_queue_seconds", "idempotency_key"};

  private final SchedulerSettings settings;

  JobRequests(SchedulerSettings settings) { this.settings = settings; }

  /** A job from one submission; the tenant comes from the token (an admin names it). */
  Job parse(JsonObject body, Caller caller, String idempotencyHeader, String fieldPrefix) {
    JsonInput in = JsonInput.of(body, FIELDS);
    String tenantId = in.string("tenant_id", false, Ids.MAX_LENGTH, Ids.TENANT, "a tenant id");
    String name = in.string("name", false, 128);
    JsonArray command = command(in, body);
    JsonObject env = env(in, body);
    JsonObject payload = in.rawObject("payload", 1000);
    String payloadText = payload == null || payload.isEmpty() ? null : payload.encode();
    if (payloadText != null && payloadText.length() > MAX_PAYLOAD_BYTES) {
      in.addError("payload", "must encode to at most " + MAX_PAYLOAD_BYTES + " bytes");
    }
    JsonObject labels = in.labels("labels");
    Long priority = in.integer("priority", false, 0, 100);
    Long cpu = in.integer("cpu_m", false, 1, MAX_CPU_M);
    Long memory = in.integer("memory_mb", false, 1, MAX_MEMORY_MB);
    String poolId = in.string("pool_id", false, Ids.MAX_LENGTH, Ids.POOL, "a pool id");
    JsonObject poolLabels = in.labels("pool_labels");
    Long timeout = in.integer("timeout_s", false, 0, MAX_TIMEOUT_S);
    Long attempts = in.integer("max_attempts", false, 1, MAX_ATTEMPTS);
    String deadline = in.string("sla_deadline", false, 64);
    Long slaSeconds = in.integer("sla_seconds", false, 1, MAX_QUEUE_S);
    Long maxQueue = in.integer("max_queue_seconds", false, 1, MAX_QUEUE_S);
    String key = in.string("idempotency_key", false, MAX_IDEMPOTENCY_KEY);
    Instant slaDeadline = null;
    if (deadline != null) {
      try {
        slaDeadline = Instant.parse(deadline);
      } catch (DateTimeParseException e) {
        in.typeError("sla_deadline", "must be an ISO-8601 instant such as 2030-01-01T00:00:00Z");
      }
    }
    in.validate();
    String prefix = fieldPrefix == null ? "" : fieldPrefix;
    if (poolId != null && poolLabels != null) {
      throw DomainException.unprocessable(prefix + "give pool_id or pool_labels, not both");
    }
    if (slaDeadline != null && slaSeconds != null) {
      throw DomainException.unprocessable(prefix + "give sla_deadline or sla_seconds, not both");
    }
    if (idempotencyHeader != null && key != null && !idempotencyHeader.equals(key)) {
      throw DomainException.unprocessable(prefix + "the Idempotency-Key header and idempotency_key differ");
    }
    String effectiveKey = key != null ? key : idempotencyHeader;
    if (effectiveKey != null && (effectiveKey.isBlank() || effectiveKey.length() > MAX_IDEMPOTENCY_KEY)) {
      throw DomainException.unprocessable(prefix + "an idempotency key has 1.." + MAX_IDEMPOTENCY_KEY + " characters");
    }

    Job job = new Job();
    job.tenantId = tenantFor(caller, tenantId);
    job.id = newId();
    job.name = name;
    job.state = JobState.QUEUED;
    job.priority = priority == null ? settings.defaultPriority() : priority.intValue();
    job.cpuM = cpu == null ? 100 : cpu;
    job.memoryMb = memory == null ? 128 : memory;
    job.poolId = poolId;
    job.poolLabels = poolLabels;
    job.command = command;
    job.env = env == null ? new JsonObject() : env;
    job.payload = payload == null ? new JsonObject() : payload;
    job.payloadText = payloadText;
    job.labels = labels == null ? new JsonObject() : labels;
    job.timeoutSeconds = timeout == null ? settings.defaultTimeoutSeconds() : timeout.intValue();
    job.maxAttempts = attempts == null ? settings.defaultMaxAttempts() : attempts.intValue();
    job.maxQueueSeconds = maxQueue == null ? settings.defaultMaxQueueSeconds() : maxQueue.intValue();
    job.submittedAt = Instant.now();
    job.queuedAt = job.submittedAt;
    job.slaDeadline = slaSeconds != null ? job.submittedAt.plusSeconds(slaSeconds) : slaDeadline;
    if (job.slaDeadline != null && !job.slaDeadline.isAfter(job.submittedAt)) {
      throw DomainException.unprocessable(prefix + "sla_deadline is in the past");
    }
    job.idempotencyKey = effectiveKey;
    if (effectiveKey != null) {
      job.idempotencyFingerprint = fingerprint(job, new JsonObject().put("sla_deadline", deadline)
          .put("sla_seconds", slaSeconds));
    }
    return job;
  }

  /**
   * SHA-256 (hex) of what the submission asks for, with defaults applied and object members sorted, so that the same
   * job sent again (members in another order, a default spelled out) has the same fingerprint and any other job a
   * different one. The SLA is taken as given: sla_seconds is relative to each submission.
   */
  static String fingerprint(Job job, JsonObject sla) {
    JsonObject canonical = new JsonObject().put("tenant_id", job.tenantId).put("name", job.name)
        .put("priority", job.priority).put("cpu_m", job.cpuM).put("memory_mb", job.memoryMb)
        .put("pool_id", job.poolId).put("pool_labels", job.poolLabels).put("command", job.command)
        .put("env", job.env).put("payload", job.payload).put("labels", job.labels)
        .put("timeout_s", job.timeoutSeconds).put("max_attempts", job.maxAttempts)
        .put("max_queue_seconds", job.maxQueueSeconds).put("sla", sla);
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256")
          .digest(((JsonObject) sorted(canonical)).encode().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is a required JDK algorithm", e);
    }
  }

  private static Object sorted(Object value) {
    if (value instanceof JsonObject o) {
      JsonObject out = new JsonObject();
      new TreeSet<>(o.fieldNames()).forEach(k -> out.put(k, sorted(o.getValue(k))));
      return out;
    }
    if (value instanceof JsonArray a) {
      JsonArray out = new JsonArray();
      a.forEach(v -> out.add(sorted(v)));
      return out;
    }
    return value;
  }

  private static String tenantFor(Caller caller, String requested) {
    if (caller.isAdmin()) {
      if (requested == null) throw DomainException.unprocessable("an admin submits for a tenant: give tenant_id");
      return requested;
    }
    caller.requireRole(Role.SUBMITTER);
    if (requested != null && !requested.equals(caller.tenantId())) throw DomainException.notFound("tenant", requested);
    return caller.tenantId();
  }

  private static JsonArray command(JsonInput in, JsonObject body) {
    Object value = body.getValue("command");
    if (value == null) {
      in.rangeError("command", "is required: the program and its arguments, e.g. [\"echo\", \"hi\"] (no shell)");
      return null;
    }
    if (!(value instanceof JsonArray array)) {
      in.typeError("command", "must be an array of strings (argv; no shell)");
      return null;
    }
    if (array.isEmpty() || array.size() > MAX_ARGS) {
      in.rangeError("command", "must have 1.." + MAX_ARGS + " elements");
      return array;
    }
    int bytes = 0;
    for (int i = 0; i < array.size(); i++) {
      Object arg = array.getValue(i);
      if (!(arg instanceof String s)) {
        in.typeError("command[" + i + "]", "must be a string");
        continue;
      }
      if (s.indexOf('\0') >= 0 || (i == 0 && s.isBlank())) in.rangeError("command[" + i + "]", "is not a valid argument");
      bytes += s.length();
    }
    if (bytes > MAX_COMMAND_BYTES) in.rangeError("command", "must total at most " + MAX_COMMAND_BYTES + " characters");
    return array;
  }

  private static JsonObject env(JsonInput in, JsonObject body) {
    Object value = body.getValue("env");
    if (value == null) return null;
    if (!(value instanceof JsonObject env)) {
      in.typeError("env", "must be an object of string values");
      return null;
    }
    if (env.size() > MAX_ENV) in.rangeError("env", "must have at most " + MAX_ENV + " variables");
    for (String key : env.fieldNames()) {
      if (!ENV_KEY.matcher(key).matches()) in.rangeError("env." + key, "is not a valid variable name");
      Object v = env.getValue(key);
      if (!(v instanceof String s)) in.typeError("env." + key, "must be a string");
      else if (s.length() > 4096 || s.indexOf('\0') >= 0) in.rangeError("env." + key, "must be a short string");
    }
    return env;
  }

  /** Time-ordered ids: the hex millisecond clock then randomness, so id order is submit order. */
  static String newId() {
    char[] id = new char[26];
    id[0] = 'j';
    id[1] = '-';
    hex(id, 2, System.currentTimeMillis(), 12);
    hex(id, 14, ThreadLocalRandom.current().nextLong(), 12);
    return new String(id);
  }

  /** The low {@code digits} hex digits of {@code value} into {@code into} from {@code at}, zero-padded. */
  private static void hex(char[] into, int at, long value, int digits) {
    for (int i = at + digits - 1; i >= at; i--) {
      into[i] = HEX[(int) (value & 0xf)];
      value >>>= 4;
    }
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();
}
