package io.hodei.cli;

import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** Every command of the CLI against a real server on real (embedded) PostgreSQL, through picocli's execute. */
@org.junit.jupiter.api.Timeout(120)
class HodeiCliTest {
  static TestServer server;
  static Fixtures fixtures;
  static String submitter;

  @TempDir
  Path home;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of());
    fixtures = new Fixtures(server);
    submitter = fixtures.tenant("acme", null, 2, "submitter");
    fixtures.pool(Fixtures.simulatedPool("sim", 2, 50), 2);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private Cli admin() { return new Cli(home).as(server.port(), TestServer.ADMIN_TOKEN); }

  private Cli user() { return new Cli(home).as(server.port(), submitter); }

  private static void ok(Cli.Result r) { assertThat(r.code()).as(r.toString()).isZero(); }

  private static String firstLine(String text) { return text.lines().findFirst().orElse(""); }

  @Test
  void loginStoresContextsOwnerOnlyAndTheEnvironmentOverridesThem() throws Exception {
    Cli cli = new Cli(home);
    Cli.Result bad = cli.run("login", "--server", "http://127.0.0.1:" + server.port(), "--token", "wrong-token");
    assertThat(bad.code()).as(bad.toString()).isEqualTo(ExitCodes.ERROR);
    assertThat(bad.err()).startsWith("error: unauthorized").doesNotContain("Exception").hasLineCount(1);
    Path config = home.resolve(".config/hodei/config.yaml");
    assertThat(config).doesNotExist();

    ok(cli.run("login", "--server", "http://127.0.0.1:" + server.port(), "--token", TestServer.ADMIN_TOKEN));
    assertThat(Files.getPosixFilePermissions(config)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readString(config)).contains("current-context: default").contains("http://127.0.0.1:" + server.port());
    ok(cli.run("login", "--server", "http://127.0.0.1:1", "--token", "t", "--context", "dead", "--no-verify"));
    assertThat(cli.run("context", "current").out().trim()).isEqualTo("dead");
    Cli.Result unreachable = cli.run("pools");
    assertThat(unreachable.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(unreachable.err()).contains("cannot reach http://127.0.0.1:1").hasLineCount(1);

    ok(cli.run("context", "use", "default"));
    Cli.Result list = cli.run("context", "list");
    assertThat(list.out()).containsPattern("\\*\\s+default\\s+http://127.0.0.1:" + server.port()).contains("dead");
    ok(cli.run("pools"));
    assertThat(cli.run("context", "use", "nope").code()).isEqualTo(ExitCodes.NOT_FOUND);
    // --context picks another one for one command; HODEI_SERVER beats the context
    assertThat(cli.run("pools", "--context", "dead").err()).contains("127.0.0.1:1");
    cli.env("HODEI_SERVER", "http://127.0.0.1:1");
    assertThat(cli.run("pools").err()).contains("cannot reach http://127.0.0.1:1");
    cli.env("HODEI_SERVER", null).env("HODEI_TOKEN", "not-a-token");
    assertThat(cli.run("pools").err()).startsWith("error: unauthorized");
  }

  @Test
  void submitParsesQuantitiesWaitsAndIsIdempotent() {
    Cli.Result r = user().run("submit", "--pool", "sim", "--cpu", "250m", "--mem", "1Gi", "--timeout", "10m",
        "--sla", "1h", "--env", "A=1", "--env", "B=2", "--priority", "70", "--idempotency-key", "cli-1", "--wait",
        "--", "echo", "hi");
    ok(r);
    String id = firstLine(r.out());
    assertThat(id).startsWith("j-");
    assertThat(r.out()).contains(id + " succeeded (exit 0)");
    JsonObject job = new JsonObject(user().run("job", id, "-o", "json").out());
    assertThat(job.getInteger("cpu_m")).isEqualTo(250);
    assertThat(job.getInteger("memory_mb")).isEqualTo(1024);
    assertThat(job.getInteger("timeout_s")).isEqualTo(600);
    assertThat(job.getInteger("priority")).isEqualTo(70);
    assertThat(job.getJsonObject("env").getMap()).containsEntry("A", "1").containsEntry("B", "2");
    assertThat(job.getString("sla_deadline")).isNotNull();
    Cli.Result again = user().run("submit", "--pool", "sim", "--cpu", "250m", "--mem", "1Gi", "--timeout", "10m",
        "--sla", "1h", "--env", "A=1", "--env", "B=2", "--priority", "70", "--idempotency-key", "cli-1", "--", "echo", "hi");
    assertThat(again.out().trim()).isEqualTo(id);

    Cli.Result asJson = user().run("submit", "--pool", "sim", "--wait", "-o", "json", "--", "true");
    ok(asJson);
    assertThat(new JsonObject(asJson.out()).getString("state")).isEqualTo("succeeded");

    Cli.Result badUnit = user().run("submit", "--pool", "sim", "--mem", "256", "--", "true");
    assertThat(badUnit.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(badUnit.err()).contains("did you mean 256Mi");
    Cli.Result rejected = user().run("submit", "--pool", "sim", "--priority", "500", "--", "true");
    assertThat(rejected.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(rejected.err()).startsWith("error: priority").hasLineCount(1);
  }

  @Test
  void waitExitsFourWhenTheJobFails() {
    Cli.Result r = user().run("submit", "--pool", "sim", "--max-attempts", "1", "--payload", "{\"fail\":true}",
        "--wait", "--", "false");
    assertThat(r.code()).as(r.toString()).isEqualTo(ExitCodes.JOB_FAILED);
    assertThat(r.out()).contains(" failed");
  }

  @Test
  void batchFileIsAllOrNothing() throws Exception {
    Path good = home.resolve("jobs.yaml");
    Files.writeString(good, """
        jobs:
          - pool: sim
            command: [echo, one]
            cpu: 500m
            mem: 128Mi
            timeout: 5m
          - pool: sim
            command: echo two
            labels: {batch: b1}
        """);
    Cli.Result r = user().run("submit", "-f", good.toString());
    ok(r);
    assertThat(r.out().lines().toList()).hasSize(2).allMatch(l -> l.startsWith("j-"));
    JsonObject second = new JsonObject(user().run("job", r.out().lines().toList().get(1), "-o", "json").out());
    assertThat(second.getJsonArray("command")).isEqualTo(new JsonArray().add("sh").add("-c").add("echo two"));

    int before = jobCount();
    Path bad = home.resolve("bad.yaml");
    Files.writeString(bad, "- {pool: sim, command: [echo, ok]}\n- {pool: no-such-pool, command: [echo, no]}\n");
    Cli.Result failed = user().run("submit", "-f", bad.toString());
    assertThat(failed.code()).as(failed.toString()).isNotZero();
    assertThat(failed.err()).contains("no-such-pool").hasLineCount(1);
    assertThat(jobCount()).isEqualTo(before);
  }

  private int jobCount() {
    return new JsonObject(admin().run("jobs", "--limit", "100", "-o", "json").out()).getJsonArray("items").size();
  }

  @Test
  void jobsTableFiltersAndMachineFormats() {
    String id = fixtures.submitted(submitter, Fixtures.spec("sim", "echo", "listed"));
    fixtures.awaitState(submitter, id, "succeeded");
    Cli.Result table = user().run("jobs", "--state", "succeeded");
    ok(table);
    assertThat(firstLine(table.out())).matches("ID\\s+TENANT\\s+POOL\\s+STATE\\s+PRIO\\s+CPU\\s+MEM\\s+SUBMITTED\\s+TIME");
    assertThat(table.out()).containsPattern(id + "\\s+acme\\s+sim\\s+succeeded\\s+50\\s+500m\\s+256Mi\\s+(just now|\\d+s ago)");
    assertThat(table.out().lines().skip(1)).allMatch(l -> l.contains("succeeded"));
    assertThat(user().run("jobs", "--state", "running", "--pool", "sim").out()).doesNotContain(id);
    assertThat(admin().run("jobs", "--tenant", "acme", "-o", "wide").out()).contains("ATTEMPTS").contains(id);
    JsonObject json = new JsonObject(user().run("jobs", "-o", "json").out());
    assertThat(json.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("id"))).contains(id);
    assertThat(json.containsKey("trace_id")).isFalse();
    assertThat(user().run("jobs", "-o", "yaml").out()).contains("items:").contains("id: " + id);
    Cli.Result badFormat = user().run("jobs", "-o", "xml");
    assertThat(badFormat.code()).isEqualTo(ExitCodes.USAGE);
  }

  @Test
  void jobDetailsExplainWhyAWaitingJobWaits() {
    fixtures.pool(Fixtures.simulatedPool("held", 1, 50), 1);
    ok(admin().run("pool", "pause", "held"));
    String id = fixtures.submitted(submitter, Fixtures.spec("held", "true"));
    Cli.Result r = user().run("job", id);
    ok(r);
    assertThat(r.out()).contains("State:").contains("queued").contains("Waiting: number 1 in the queue (1st of its tenant)")
        .contains("Why: no matching pool takes new jobs: held is paused [pool_not_accepting]")
        .contains("Expected start: unknown (no pool takes jobs now)");
    Cli.Result cancelled = user().run("cancel", id, "j-does-not-exist");
    assertThat(cancelled.code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(cancelled.out()).contains(id + " cancelled");
    assertThat(cancelled.err()).contains("j-does-not-exist").doesNotContain("\tat ").hasLineCount(1);
    Cli.Result missing = user().run("job", "j-does-not-exist");
    assertThat(missing.code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(missing.err()).isEqualTo("error: job 'j-does-not-exist' does not exist\n");
  }

  @Test
  void logsAndEventsOfAFinishedJob() {
    String id = fixtures.submitted(submitter, Fixtures.spec("sim", "echo", "x"));
    fixtures.awaitState(submitter, id, "succeeded");
    Cli.Result logs = user().run("logs", id);
    ok(logs);
    assertThat(logs.out()).isEqualTo("simulated job " + id + " ran 50 ms\n");
    Cli.Result events = user().run("events", id);
    ok(events);
    assertThat(events.out()).containsPattern("\\d+\\s+\\S.*\\s+queued\\s+reason=submitted")
        .contains("running").containsPattern("succeeded\\s+outcome=succeeded pool_id=sim exit_code=0");
  }

  @Test
  void logsFollowStreamsTheOutputOfAJobThatHasNotEndedYet() throws Exception {
    fixtures.pool(Fixtures.simulatedPool("slow", 1, 300), 1);
    ok(admin().run("pool", "pause", "slow"));
    String id = fixtures.submitted(submitter, Fixtures.spec("slow", "sleep", "1"));
    AtomicReference<Cli.Result> result = new AtomicReference<>();
    Thread follower = new Thread(() -> result.set(user().run("logs", "-f", id)));
    follower.start();
    // the job cannot end while its pool is paused: whatever logs -f prints, it printed by following the stream
    assertThat(fixtures.job(submitter, id).getString("state")).isEqualTo("queued");
    ok(admin().run("pool", "resume", "slow"));
    follower.join(60_000);
    assertThat(follower.isAlive()).isFalse();
    ok(result.get());
    assertThat(result.get().out()).isEqualTo("simulated job " + id + " ran 300 ms\n");
    assertThat(fixtures.job(submitter, id).getString("state")).isEqualTo("succeeded");

    Cli.Result missing = user().run("logs", "-f", "j-does-not-exist");
    assertThat(missing.code()).as(missing.toString()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(missing.err()).isEqualTo("error: job 'j-does-not-exist' does not exist\n");
  }

  @Test
  void logsFollowPrintsARunningJobsOutputAsItComes() throws Exception {
    fixtures.pool(new JsonObject().put("id", "here").put("provider", "local").put("size", 1).put("worker_cpu_m", 4000)
        .put("worker_memory_mb", 8192), 1);
    // the job prints a line, then waits for the test's gate file (at most a minute) before its second line
    Path gate = home.resolve("gate");
    String script = "echo first-line; i=0; while [ ! -e '" + gate + "' ] && [ $i -lt 600 ]; do sleep 0.1; "
        + "i=$((i+1)); done; echo second-line";
    String id = fixtures.submitted(submitter, Fixtures.spec("here", "sh", "-c", script));
    StringWriter out = new StringWriter();
    AtomicReference<Cli.Result> result = new AtomicReference<>();
    Thread follower = new Thread(() -> result.set(user().run(out, "logs", "-f", id)));
    follower.start();
    try {
      Poll.until(out::toString, s -> s.contains("first-line"), Duration.ofSeconds(30), "logs -f prints the first line");
      // seen while the job still runs (it cannot end before the gate opens), and nothing printed twice
      assertThat(fixtures.job(submitter, id).getString("state")).isEqualTo("running");
      assertThat(out.toString()).isEqualTo("first-line\n");
      Files.createFile(gate);
      follower.join(60_000);
      assertThat(follower.isAlive()).as("logs -f ends with the job").isFalse();
      ok(result.get());
      assertThat(result.get().out()).isEqualTo("first-line\nsecond-line\n");
      assertThat(fixtures.job(submitter, id).getString("state")).isEqualTo("succeeded");
    } finally {
      follower.interrupt();
      follower.join(10_000);
    }
  }

  @Test
  void newTextIsWhatALaterViewOfTheOutputAdds() {
    assertThat(LogsCommand.newText(null, "a\n")).isEqualTo("a\n");
    assertThat(LogsCommand.newText("a\n", "a\nb\n")).isEqualTo("b\n");
    assertThat(LogsCommand.newText("a\nb\n", "a\nb\n")).isEmpty();
    // a window that slid: the newest bytes of the earlier view start the later one
    assertThat(LogsCommand.newText("0123456789", "6789abc")).isEqualTo("abc");
    assertThat(LogsCommand.newText("tick\ntick\n", "tick\ntick\ntick\n")).isEqualTo("tick\n");
    assertThat(LogsCommand.newText("abc", "xyz")).isEqualTo("xyz");
  }

  @Test
  void jobsWatchShowsTheTableThenEachStateChangeAsItsEventArrives() throws Exception {
    fixtures.pool(Fixtures.simulatedPool("watched", 1, 300), 1);
    ok(admin().run("pool", "pause", "watched"));
    String listed = fixtures.submitted(submitter, Fixtures.spec("watched", "true"));
    StringWriter out = new StringWriter();
    AtomicReference<Cli.Result> result = new AtomicReference<>();
    Thread watcher = new Thread(() -> result.set(user().run(out, "jobs", "-w", "--pool", "watched")));
    watcher.start();
    Poll.until(out::toString, s -> s.matches("(?s)ID .*\n" + listed + "\\s+acme\\s+watched\\s+queued.*"),
        Duration.ofSeconds(20), "the table with the queued job");
    // submitted after the watch began: it appears from its event, and so does each change of both jobs
    String added = fixtures.submitted(submitter, Fixtures.spec("watched", "true"));
    Poll.until(out::toString, s -> s.matches("(?s).*\n" + added + "\\s+acme\\s+watched\\s+queued.*"),
        Duration.ofSeconds(20), "watch shows the new job");
    ok(admin().run("pool", "resume", "watched"));
    for (String id : new String[] {listed, added}) {
      Poll.until(out::toString, s -> s.matches("(?s).*\n" + id + "\\s+acme\\s+watched\\s+succeeded.*"),
          Duration.ofSeconds(30), "watch shows " + id + " succeeded");
    }
    watcher.interrupt();
    watcher.join(10_000);
    assertThat(watcher.isAlive()).isFalse();
    ok(result.get());
    // the header once, then one line per change: never the same state twice for a job
    List<String> lines = out.toString().lines().toList();
    assertThat(lines.stream().filter(l -> l.startsWith("ID"))).hasSize(1);
    for (String id : new String[] {listed, added}) {
      for (String state : new String[] {"queued", "succeeded"}) {
        assertThat(lines.stream().filter(l -> l.startsWith(id) && l.contains(" " + state + " "))).as(id + " " + state)
            .hasSize(1);
      }
    }
  }

  @Test
  void poolsPoolAndLifecycle() {
    fixtures.pool(Fixtures.simulatedPool("life", 2, 50), 2);
    Cli.Result pools = admin().run("pools");
    ok(pools);
    assertThat(pools.out()).containsPattern("life\\s+static\\s+simulated\\s+active\\s+2/2\\s+2\\s+0\\s+0");
    Cli.Result pool = admin().run("pool", "life");
    ok(pool);
    assertThat(pool.out()).contains("Pool life (static, simulated): active").contains("Workers by state: idle=2")
        .contains("Health:").contains("Scaling ledger");
    assertThat(admin().run("pool", "pause", "life").out().trim()).isEqualTo("pool life paused");
    assertThat(admin().run("pool", "resume", "life").out().trim()).isEqualTo("pool life active");
    ok(admin().run("pool", "drain", "life"));
    assertThat(admin().run("pool", "nope").code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(admin().run("pool").code()).isEqualTo(ExitCodes.USAGE);
    JsonObject json = new JsonObject(admin().run("pool", "sim", "-o", "json").out());
    assertThat(json.getJsonArray("worker_list")).hasSize(2);
  }

  @Test
  void queuesTenantsTokensAndCost() {
    Cli.Result queues = admin().run("queues");
    ok(queues);
    assertThat(firstLine(queues.out())).satisfiesAnyOf(
        l -> assertThat(l).matches("TENANT\\s+WEIGHT\\s+QUEUED\\s+RUNNING\\s+OLDEST WAIT\\s+ENTITLED\\s+ACTUAL"),
        l -> assertThat(l).startsWith("no tenant"));
    Cli.Result tenants = admin().run("tenants");
    ok(tenants);
    assertThat(tenants.out()).containsPattern("acme\\s+acme\\s+2\\s+active\\s+4\\s+8Gi\\s+10\\s+1000");

    Cli.Result token = admin().run("tokens", "create", "--tenant", "acme", "--role", "viewer", "--name", "cli-test");
    ok(token);
    String secret = token.out().trim();
    assertThat(secret).startsWith("hodei_");
    Cli viewer = new Cli(home).as(server.port(), secret);
    ok(viewer.run("jobs"));
    Cli.Result refused = viewer.run("submit", "--pool", "sim", "--", "true");
    assertThat(refused.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(refused.err()).startsWith("error: forbidden");
    assertThat(admin().run("tokens", "list", "--tenant", "acme").out()).contains("cli-test").doesNotContain(secret);

    Cli.Result cost = admin().run("cost", "--from", "2d", "--by", "tenant");
    ok(cost);
    assertThat(cost.out()).startsWith("Cost from ").contains("TENANT_ID").contains("TOTAL");
    assertThat(admin().run("cost", "--by", "planet").code()).isEqualTo(ExitCodes.ERROR);
    assertThat(admin().run("cost", "--from", "yesterday").code()).isEqualTo(ExitCodes.USAGE);
  }

  @Test
  void helpUsageErrorsAndCompletion() {
    Cli cli = new Cli(home);
    Cli.Result help = cli.run("--help");
    ok(help);
    assertThat(help.out()).contains("submit").contains("jobs").contains("completion").contains("Exit codes");
    for (String command : new String[] {"submit", "jobs", "job", "logs", "cancel", "events", "pools", "pool", "queues",
        "tenants", "tokens", "cost", "top", "login", "context", "completion"}) {
      Cli.Result r = cli.run(command, "--help");
      assertThat(r.code()).as(command + " --help").isZero();
      assertThat(r.out()).as(command).contains("Usage: hodei " + command);
    }
    ok(cli.run("pool", "drain", "--help"));
    // a usage error is one line naming the help to read, never the whole usage text
    Cli.Result unknownCommand = cli.run("no-such-command");
    assertThat(unknownCommand.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknownCommand.err()).startsWith("hodei: unknown command 'no-such-command'")
        .endsWith("; see 'hodei --help'\n").hasLineCount(1);
    Cli.Result unknownOption = cli.run("jobs", "--bogus");
    assertThat(unknownOption.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknownOption.err()).isEqualTo("hodei: unknown option --bogus; see 'hodei jobs --help'\n");
    Cli.Result missing = cli.run("pool", "drain");
    assertThat(missing.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(missing.err()).isEqualTo("hodei: missing required parameter: 'ID'; see 'hodei pool drain --help'\n");
    Cli.Result badValue = cli.run("jobs", "--limit", "many");
    assertThat(badValue.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(badValue.err()).startsWith("hodei: invalid value for option '--limit'").hasLineCount(1);
    assertThat(cli.run("submit", "--pool").err()).hasLineCount(1).endsWith("see 'hodei submit --help'\n");
    Cli.Result badUrl = cli.env("HODEI_TOKEN", "t").run("pools", "--server", "localhost:8080");
    assertThat(badUrl.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(badUrl.err()).startsWith("error: bad server URL 'localhost:8080'").hasLineCount(1);
    Cli.Result badUrlStream = cli.run("logs", "-f", "j-1", "--server", "ftp://host");
    assertThat(badUrlStream.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(badUrlStream.err()).startsWith("error: bad server URL 'ftp://host'").hasLineCount(1);
    cli.env("HODEI_TOKEN", null);
    Cli.Result noToken = cli.run("jobs");
    assertThat(noToken.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(noToken.err()).contains("hodei login");
    assertThat(cli.run("completion", "bash").out()).contains("complete -F").contains("hodei");
    assertThat(cli.run("completion", "zsh").out()).contains("bashcompinit");
    assertThat(cli.run("completion", "fish").code()).isEqualTo(ExitCodes.USAGE);
  }
}
