package io.hodei.ops;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped dashboards and alert rules only read metrics of the contract (MetricCatalog, up, vertx_/jvm_/process_),
 * are well-formed, and are documented; with promtool on PATH (.ci/run installs it) the rules also pass their
 * promtool unit tests, so a changed rule text without its test fails the build, not only CI.
 */
class DashboardsAndAlertsTest {
  static final Path RULES = Path.of("alerts/hodei-rules.yml");
  static final Path RULE_TESTS = Path.of("alerts/tests/hodei-rules-test.yml");
  static final List<String> REQUIRED_ALERTS = List.of("NoHealthyWorkers", "HighSchedulingLatency", "QueueBacklog",
      "PoolUnhealthy", "PoolDegraded", "ProvisioningFailures", "SlaAtRisk", "SlaBreached", "QuotaExhausted",
      "CostAnomaly", "CollectorStalled", "TargetDown");

  @Test
  void theExtractorFindsMetricsAndIgnoresFunctionsLabelsAndKeywords() {
    assertThat(MetricNames.in("histogram_quantile(0.95, sum by (le) (rate(hodei_scheduling_latency_seconds_bucket"
        + "{pool=\"$pool\", le!=\"x\"}[5m]))) > 0.1 and on(instance) up == 1 or vector(0) * 1e-9"))
        .containsExactly("hodei_scheduling_latency_seconds_bucket", "up");
    assertThat(MetricNames.in("time() - hodei_collector_last_run_timestamp_seconds offset 5m > bool 30"))
        .containsExactly("hodei_collector_last_run_timestamp_seconds");
    assertThat(MetricNames.allowed("hodei_pool_recovery_seconds_count")).isTrue();
    assertThat(MetricNames.allowed("jvm_memory_used_bytes")).isTrue();
    assertThat(MetricNames.allowed("hodei_jobs_queued_total")).isFalse();
    assertThat(MetricNames.allowed("node_cpu_seconds_total")).isFalse();
  }

  @Test
  void everyDashboardIsValidAndReadsOnlyCatalogMetrics() throws IOException {
    List<Path> files = dashboards();
    assertThat(files).extracting(p -> p.getFileName().toString()).contains("hodei-jobs.json",
        "hodei-worker-health.json", "hodei-scheduling.json", "hodei-resources.json", "hodei-tenants-cost.json",
        "hodei-pool.json");
    Set<String> uids = new HashSet<>();
    List<String> unknown = new ArrayList<>();
    for (Path file : files) {
      JsonObject dashboard = new JsonObject(Files.readString(file)); // throws on invalid JSON
      assertThat(uids.add(dashboard.getString("uid"))).as("%s: unique uid", file).isTrue();
      assertThat(dashboard.getString("title")).as("%s: title", file).isNotBlank();
      JsonArray panels = dashboard.getJsonArray("panels");
      assertThat(panels).as("%s: panels", file).isNotEmpty();
      Set<Integer> ids = new HashSet<>();
      for (Object o : panels) {
        JsonObject panel = (JsonObject) o;
        String where = file.getFileName() + " panel " + panel.getValue("id") + " '" + panel.getString("title") + "'";
        assertThat(ids.add(panel.getInteger("id"))).as("%s: unique panel id", where).isTrue();
        assertThat(panel.getJsonObject("datasource")).as("%s: datasource", where).isNotNull();
        assertThat(panel.getJsonObject("datasource").getString("uid")).as("%s: datasource uid", where)
            .isEqualTo("prometheus");
        JsonArray targets = panel.getJsonArray("targets");
        assertThat(targets).as("%s: targets", where).isNotEmpty();
        for (Object t : targets) {
          String expr = ((JsonObject) t).getString("expr");
          assertThat(expr).as("%s: expr", where).isNotBlank();
          unknown.addAll(unknownIn(where, expr));
        }
      }
      for (Object o : dashboard.getJsonObject("templating").getJsonArray("list")) {
        JsonObject variable = (JsonObject) o;
        String query = variable.getJsonObject("query").getString("query");
        // label_values(metric, label): the second argument is a label name
        unknown.addAll(unknownIn(file.getFileName() + " variable " + variable.getString("name"),
            query.replaceAll("label_values\\(([^,]+),[^)]*\\)", "$1")));
      }
    }
    assertThat(unknown).as("metrics not in MetricCatalog (nor up/vertx_/jvm_/process_)").isEmpty();

    JsonObject pool = new JsonObject(Files.readString(Path.of("dashboards/hodei-pool.json")));
    assertThat(pool.getJsonObject("templating").getJsonArray("list").getJsonObject(0).getString("name"))
        .isEqualTo("pool");
    assertThat(pool.getJsonArray("panels").stream().map(p -> ((JsonObject) p).encode()))
        .allMatch(p -> p.contains("pool=\\\"$pool\\\""), "every pool panel filters on $pool");
  }

  @Test
  void everyAlertRuleIsCompleteAndReadsOnlyCatalogMetrics() throws IOException {
    Map<String, Map<String, Object>> rules = rules();
    assertThat(rules.keySet()).containsAll(REQUIRED_ALERTS);
    List<String> unknown = new ArrayList<>();
    rules.forEach((name, rule) -> {
      Map<?, ?> labels = (Map<?, ?>) rule.get("labels");
      Map<?, ?> annotations = (Map<?, ?>) rule.get("annotations");
      assertThat(labels.get("severity")).as("%s severity", name).isIn("critical", "warning", "info");
      for (String a : List.of("summary", "description", "runbook")) {
        assertThat((String) annotations.get(a)).as("%s annotation %s", name, a).isNotBlank();
      }
      assertThat(rule.get("for")).as("%s for", name).isNotNull();
      unknown.addAll(unknownIn("alert " + name, (String) rule.get("expr")));
    });
    assertThat(unknown).as("metrics not in MetricCatalog (nor up/vertx_/jvm_/process_)").isEmpty();
    assertThat(MetricNames.in((String) rules.get("CollectorStalled").get("expr")))
        .containsExactly("hodei_collector_last_run_timestamp_seconds");
  }

  @Test
  void everyRuleHasAFiringAndANotFiringUnitTest() throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(RULE_TESTS));
    Set<String> firing = new HashSet<>();
    Set<String> quiet = new HashSet<>();
    for (Object t : (List<?>) doc.get("tests")) {
      for (Object c : (List<?>) ((Map<?, ?>) t).get("alert_rule_test")) {
        Map<?, ?> test = (Map<?, ?>) c;
        List<?> expected = (List<?>) test.get("exp_alerts");
        (expected == null || expected.isEmpty() ? quiet : firing).add((String) test.get("alertname"));
      }
    }
    assertThat(firing).as("rules with a firing case").containsAll(rules().keySet());
    assertThat(quiet).as("rules with a not-firing case").containsAll(rules().keySet());
  }

  @Test
  void theOperationsDocListsEveryRuleAndTheConfigsPointAtTheShippedFiles() throws IOException {
    String operations = Files.readString(Path.of("docs/operations.md"));
    for (String name : rules().keySet()) {
      assertThat(operations).as("docs/operations.md rules table").contains("| `" + name + "` |");
    }
    Map<String, Object> prometheus = new Yaml().load(Files.readString(Path.of("conf/prometheus.yml")));
    for (Object f : (List<?>) prometheus.get("rule_files")) {
      assertThat(Path.of("conf").resolve((String) f).normalize()).as("rule file of conf/prometheus.yml").exists();
    }
    Map<String, Object> provider = new Yaml().load(Files.readString(
        Path.of("conf/grafana/provisioning/dashboards/hodei.yml")));
    Map<?, ?> first = (Map<?, ?>) ((List<?>) provider.get("providers")).get(0);
    String mounted = (String) ((Map<?, ?>) first.get("options")).get("path");
    assertThat(Files.readString(Path.of("docker-compose.yml"))).contains("./dashboards:" + mounted)
        .contains("./conf/grafana/provisioning:/etc/grafana/provisioning");
    Map<String, Object> datasources = new Yaml().load(Files.readString(
        Path.of("conf/grafana/provisioning/datasources/prometheus.yml")));
    assertThat(((Map<?, ?>) ((List<?>) datasources.get("datasources")).get(0)).get("uid")).isEqualTo("prometheus");
  }

  static Map<String, Map<String, Object>> rules() throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(RULES));
    Map<String, Map<String, Object>> rules = new LinkedHashMap<>();
    for (Object g : (List<?>) doc.get("groups")) {
      for (Object r : (List<?>) ((Map<?, ?>) g).get("rules")) {
        @SuppressWarnings("unchecked")
        Map<String, Object> rule = (Map<String, Object>) r;
        assertThat(rules.put((String) rule.get("alert"), rule)).as("duplicate rule %s", rule.get("alert")).isNull();
      }
    }
    return rules;
  }

  private static List<Path> dashboards() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("dashboards"))) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  private static List<String> unknownIn(String where, String expr) {
    return MetricNames.in(expr).stream().filter(n -> !MetricNames.allowed(n)).map(n -> where + ": " + n).toList();
  }

  @Test
  void theRulesPassTheirPromtoolUnitTests() throws Exception {
    java.util.Optional<Path> promtool = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "")
        .split(java.io.File.pathSeparator)).map(d -> Path.of(d, "promtool")).filter(java.nio.file.Files::isExecutable)
        .findFirst();
    org.junit.jupiter.api.Assumptions.assumeTrue(promtool.isPresent(), "promtool is not on PATH");
    Process p = new ProcessBuilder(promtool.get().toString(), "test", "rules", RULE_TESTS.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }
}
