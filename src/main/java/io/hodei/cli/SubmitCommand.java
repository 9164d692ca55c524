package io.hodei.cli;

import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.WatchJobsRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "submit", description = {"Submit a job (argv after --, never a shell), or a batch from a YAML file (all or nothing).",
    "Example: hodei submit --pool sim --cpu 500m --mem 256Mi --timeout 10m -- sh -c 'echo hi'"})
final class SubmitCommand extends ApiCommand {
  @Option(names = "--pool", paramLabel = "POOL", description = "Run on this pool.")
  String pool;

  @Option(names = "--pool-labels", paramLabel = "K=V", description = "Run on a pool with these labels (repeatable).")
  Map<String, String> poolLabels;

  @Option(names = "--cpu", paramLabel = "QTY", description = "CPU: 500m, 1, 2.5 (default: the server's).")
  String cpu;

  @Option(names = "--mem", paramLabel = "QTY", description = "Memory: 256Mi, 1Gi (default: the server's).")
  String mem;

  @Option(names = "--priority", paramLabel = "N", description = "0..100, higher first (default 50).")
  Integer priority;

  @Option(names = "--timeout", paramLabel = "DURATION", description = "Kill after this run time: 90s, 10m, 2h.")
  String timeout;

  @Option(names = "--sla", paramLabel = "DURATION", description = "Should finish within this time of submission.")
  String sla;

  @Option(names = "--env", paramLabel = "K=V", description = "Environment variable of the job (repeatable).")
  Map<String, String> env;

  @Option(names = "--label", paramLabel = "K=V", description = "Job label (repeatable).")
  Map<String, String> labels;

  @Option(names = "--name", paramLabel = "NAME", description = "A name for the job.")
  String name;

  @Option(names = "--max-attempts", paramLabel = "N", description = "Attempts including retries.")
  Integer maxAttempts;

  @Option(names = "--payload", paramLabel = "JSON", description = "A JSON object handed to the worker (provider-specific).")
  String payload;

  @Option(names = "--tenant", paramLabel = "TENANT", description = "Tenant to submit for (admin tokens only).")
  String tenant;

  @Option(names = "--idempotency-key", paramLabel = "KEY", description = "The same key with the same job answers the first job.")
  String idempotencyKey;

  @Option(names = "--wait", description = "Wait until the job ends; exit 4 unless it succeeded.")
  boolean waitForEnd;

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "YAML list of jobs (or {jobs: [...]}) submitted in one transaction.")
  Path file;

  @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command and its arguments, after --.")
  List<String> command = new ArrayList<>();

  @Override
  protected int run() throws Exception {
    List<String> ids = new ArrayList<>();
    if (file != null) {
      if (!command.isEmpty()) throw CliException.usage("give either -f FILE or a command, not both");
      JsonArray jobs = new JsonArray();
      for (Map<String, Object> entry : readFile(file)) jobs.add(JobSpecs.fromYaml(entry, tenant));
      JsonObject answer = client().post("/api/v1/jobs:batch", new JsonObject().put("jobs", jobs));
      if (!waitForEnd && printedAsData(answer)) return ExitCodes.OK;
      for (Object o : items(answer)) ids.add(((JsonObject) o).getString("id"));
    } else {
      if (command.isEmpty()) throw CliException.usage("nothing to run: give a command after -- (or -f FILE)");
      JsonObject answer = client().post("/api/v1/jobs", body(),
          idempotencyKey == null ? Map.of() : Map.of("Idempotency-Key", idempotencyKey));
      if (!waitForEnd && printedAsData(answer)) return ExitCodes.OK;
      ids.add(answer.getString("id"));
    }
    if (!machine()) ids.forEach(out()::println);
    out().flush();
    if (!waitForEnd) return ExitCodes.OK;
    return awaitAll(ids);
  }

  /** Waits for each job in turn: gRPC WatchJobs with until_final ends OK once the job is final. */
  private int awaitAll(List<String> ids) throws Exception {
    int code = ExitCodes.OK;
    List<JsonObject> ended = new ArrayList<>();
    for (String id : ids) {
      long[] last = {0};
      streams().follow(() -> streams().call(JobServiceGrpcClient.WatchJobs, WatchJobsRequest.newBuilder()
              .setJobId(id).addUntilFinal(id).setFromSequence(last[0]).build()),
          event -> last[0] = event.getSequence(), () -> true, 500, err());
      JsonObject job = client().get("/api/v1/jobs/" + encodePath(id));
      ended.add(job);
      if (!"succeeded".equals(job.getString("state"))) code = ExitCodes.JOB_FAILED;
      if (!machine()) {
        String exit = job.getValue("exit_code") == null ? "" : " (exit " + job.getValue("exit_code") + ")";
        String error = job.getString("error_type") == null || "exit_code".equals(job.getString("error_type"))
            ? "" : " [" + job.getString("error_type") + "]";
        out().println(id + " " + job.getString("state") + exit + error);
        out().flush();
      }
    }
    if (machine()) Output.machine(out(), format(), ended.size() == 1 ? ended.get(0) : new JsonObject().put("items", new JsonArray(new ArrayList<>(ended))));
    return code;
  }

  private JsonObject body() {
    JsonObject body = new JsonObject().put("command", new JsonArray(new ArrayList<>(command)));
    if (pool != null) body.put("pool_id", pool);
    if (poolLabels != null) body.put("pool_labels", new JsonObject(new LinkedHashMap<>(poolLabels)));
    if (cpu != null) body.put("cpu_m", Quantities.cpuMillis(cpu));
    if (mem != null) body.put("memory_mb", Quantities.memoryMb(mem));
    if (priority != null) body.put("priority", priority);
    if (timeout != null) body.put("timeout_s", Quantities.seconds(timeout));
    if (sla != null) body.put("sla_seconds", Quantities.seconds(sla));
    if (env != null) body.put("env", new JsonObject(new LinkedHashMap<>(env)));
    if (labels != null) body.put("labels", new JsonObject(new LinkedHashMap<>(labels)));
    if (name != null) body.put("name", name);
    if (maxAttempts != null) body.put("max_attempts", maxAttempts);
    if (tenant != null) body.put("tenant_id", tenant);
    if (payload != null) {
      try {
        body.put("payload", new JsonObject(payload));
      } catch (io.vertx.core.json.DecodeException e) {
        throw CliException.usage("--payload is not a JSON object: " + payload);
      }
    }
    return body;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> readFile(Path file) {
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw CliException.usage("cannot read " + file + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw CliException.usage(file + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root instanceof Map<?, ?> m && m.get("jobs") instanceof List<?> l) root = l;
    if (!(root instanceof List<?> list) || list.isEmpty()) {
      throw CliException.usage(file + ": expected a non-empty list of jobs (or a mapping with 'jobs:')");
    }
    List<Map<String, Object>> entries = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> entry)) throw CliException.usage(file + ": jobs[" + i + "] is not a mapping");
      entries.add((Map<String, Object>) entry);
    }
    return entries;
  }
}
