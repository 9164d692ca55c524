package io.hodei.agent;

import com.google.protobuf.ByteString;
import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.AgentServiceGrpcClient;
import io.hodei.grpc.v1.Assign;
import io.hodei.grpc.v1.Heartbeat;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.JobStarted;
import io.hodei.grpc.v1.LogChunk;
import io.hodei.grpc.v1.Register;
import io.hodei.grpc.v1.RunningJob;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.grpc.v1.Usage;
import io.hodei.pool.provider.LocalProviderSettings;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.runner.ProcessRunner;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The agent's side of the stream: keeps one {@code AgentService/Connect} call open (reconnecting with back-off),
 * runs what it is assigned through the process runner, and reports starts, output, usage and ends. An ended job's
 * result is kept until the server acks it and sent again after a reconnect, so a cut stream loses nothing.
 *
 * <p>Flow control towards the server: control messages (started, ended, usage, heartbeats) are few and always
 * queued; job output is streamed only up to the server's per-job log bound and through a queue of at most
 * {@value #MAX_QUEUED_LOG_BYTES} bytes that is written only while the stream accepts more (drain handler); output
 * beyond is dropped from the live stream (the final log tail in {@code JobEnded} still has the newest output).
 * Runs on one Vert.x context; the output threads only hand chunks over to it.
 */
final class AgentClient {
  private static final Logger LOG = LoggerFactory.getLogger(AgentClient.class);
  static final int MAX_QUEUED_LOG_BYTES = 256 * 1024;
  static final int MAX_CHUNK = 16 * 1024;
  static final long MAX_BACKOFF_MS = 5_000;
  static final long USAGE_INTERVAL_MS = 5_000;
  /**
   * Heartbeat intervals without a word from the server (it answers every heartbeat) after which the connection is
   * taken for dead, though TCP has not noticed (a dropped network, a frozen server): the agent connects again.
   */
  static final int SILENT_INTERVALS = 4;
  static final long HEARTBEAT_INTERVAL_MS = 2000;

  private final Vertx vertx;
  private final Context context;
  private final AgentSettings settings;
  private final String agentId;
  private final String hostname;
  private final String version;
  private final ProcessRunner runner;
  private final GrpcClient grpc;
  private final AgentServiceGrpcClient service;
  private final Map<String, Running> running = new LinkedHashMap<>();
  private final Map<String, JobEnded> unacked = new LinkedHashMap<>();
  private final Running[] slots;
  private final Deque<AgentMessage> control = new ArrayDeque<>();
  private final Deque<AgentMessage> output = new ArrayDeque<>();
  private final AtomicLong queuedLogBytes = new AtomicLong();
  private GrpcClientRequest<AgentMessage, ServerMessage> stream;
  private boolean registered;
  private int maxLogBytes = JobResult.MAX_LOG_BYTES;
  private long heartbeatTimer = -1;
  private long lastHeardNanos = System.nanoTime();
  private long usageTimer = -1;
  private long backoffMs = 200;
  private boolean stopped;
  private final Promise<Void> firstRegistration = Promise.promise();

  AgentClient(Vertx vertx, AgentSettings settings, String agentId, String hostname, String version) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.settings = settings;
    this.agentId = agentId;
    this.hostname = hostname;
    this.version = version;
    this.slots = new Running[settings.slots()];
    this.runner = new ProcessRunner(vertx, LocalProviderSettings.defaults().withWorkDir(settings.workDir()
        .resolve("jobs")));
    // HTTP/2 with prior knowledge: an h2c upgrade would carry the first request as HTTP/1.1 until its body ended,
    // which a stream never does
    HttpClientOptions options = new HttpClientOptions().setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false).setConnectTimeout((int) (SILENT_INTERVALS * HEARTBEAT_INTERVAL_MS));
    if (settings.tlsCa() != null) {
      options.setSsl(true).setUseAlpn(true)
          .setTrustOptions(new PemTrustOptions().addCertPath(settings.tlsCa().toString()));
    }
    this.grpc = GrpcClient.client(vertx, options);
    this.service = AgentServiceGrpcClient.create(grpc, SocketAddress.inetSocketAddress(settings.port(),
        settings.host()));
  }

  /** Connects; completes when first registered (it keeps trying). */
  Future<Void> start() {
    context.runOnContext(v -> {
      connect();
      heartbeatTimer = vertx.setPeriodic(HEARTBEAT_INTERVAL_MS, id -> heartbeat());
      usageTimer = vertx.setPeriodic(USAGE_INTERVAL_MS, id -> usage());
    });
    return firstRegistration.future();
  }

  /** Kills running jobs and closes the stream. */
  Future<Void> stop() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      stopped = true;
      vertx.cancelTimer(heartbeatTimer);
      vertx.cancelTimer(usageTimer);
      if (stream != null) stream.cancel();
      List<Future<Void>> killed = new ArrayList<>();
      for (Running r : running.values()) {
        killed.add(runner.stop(r.execution, WorkerProvider.Outcome.KILLED, "killed", "the agent is stopping"));
      }
      Future.join(killed).eventually(() -> grpc.close()).onComplete(ar -> done.complete());
    });
    return done.future();
  }

  // ---------------------------------------------------------------- connection

  private void connect() {
    if (stopped) return;
    registered = false;
    // Register carries the running jobs and unacked results again; output of the old stream is not replayed
    control.removeIf(m -> m.getKindCase() != AgentMessage.KindCase.STARTED);
    output.forEach(m -> queuedLogBytes.addAndGet(-m.getLog().getData().size()));
    output.clear();
    grpc.request(SocketAddress.inetSocketAddress(settings.port(), settings.host()), AgentServiceGrpcClient.Connect)
        .onComplete(ar -> {
          if (ar.failed()) {
            retry("cannot reach the server: " + ar.cause().getMessage());
            return;
          }
          GrpcClientRequest<AgentMessage, ServerMessage> request = ar.result();
          request.headers().set("authorization", "Bearer " + settings.token());
          stream = request;
          request.setWriteQueueMaxSize(64 * 1024);
          request.drainHandler(v -> flush());
          request.exceptionHandler(err -> lost(request, "stream failed: " + err.getMessage()));
          request.response().onComplete(response -> {
            if (response.failed()) {
              lost(request, "stream failed: " + response.cause().getMessage());
              return;
            }
            GrpcClientResponse<AgentMessage, ServerMessage> resp = response.result();
            resp.handler(this::onServerMessage);
            resp.exceptionHandler(err -> lost(request, "stream failed: " + err.getMessage()));
            resp.endHandler(end -> lost(request, "the server ended the stream: " + resp.status()
                + (resp.statusMessage() == null ? "" : " " + resp.statusMessage())));
          });
          Register.Builder register = Register.newBuilder().setAgentId(agentId).setPoolId(settings.pool())
              .setHostname(hostname).setSlots(slots.length).setCpuM(settings.cpuM())
              .setMemoryMb(settings.memoryMb()).putAllLabels(settings.labels()).setVersion(version)
              .addAllEnded(unacked.values());
          running.values().forEach(r -> register.addRunning(RunningJob.newBuilder().setJobId(r.jobId)
              .setAttempt(r.attempt).setSlot(r.slot).setPid(r.execution.pid())));
          request.write(AgentMessage.newBuilder().setRegister(register).build());
          vertx.setTimer(SILENT_INTERVALS * HEARTBEAT_INTERVAL_MS, id -> {
            if (stream == request && !registered) drop(request, "the server did not answer the registration");
          });
        });
  }

  private void lost(GrpcClientRequest<AgentMessage, ServerMessage> request, String why) {
    if (stream != request) return;
    stream = null;
    registered = false;
    retry(why);
  }

  /** The connection is dead without TCP knowing: drop it (not only the stream: a new stream would reuse it). */
  private void drop(GrpcClientRequest<AgentMessage, ServerMessage> request, String why) {
    io.vertx.core.http.HttpConnection connection = request.connection();
    request.cancel();
    if (connection != null) connection.close();
    lost(request, why);
  }

  private void retry(String why) {
    if (stopped) return;
    long delay = backoffMs + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1);
    LOG.warn("not connected to the server; retrying", kv("agent_id", agentId), kv("reason", why),
        kv("retry_in_ms", delay));
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    vertx.setTimer(delay, id -> connect());
  }

  private void onServerMessage(ServerMessage message) {
    lastHeardNanos = System.nanoTime();
    switch (message.getKindCase()) {
      case REGISTERED -> {
        registered = true;
        backoffMs = 200;
        maxLogBytes = Math.max(0, message.getRegistered().getMaxLogBytes());
        LOG.info("registered with the server", kv("agent_id", agentId), kv("pool", settings.pool()),
            kv("slots", slots.length), kv("running", running.size()), kv("unacked", unacked.size()));
        firstRegistration.tryComplete();
        flush();
      }
      case ASSIGN -> assign(message.getAssign());
      case KILL -> {
        Running r = running.get(message.getKill().getJobId());
        if (r != null && r.attempt == message.getKill().getAttempt()) {
          LOG.info("killing a job on the server's request", kv("job_id", r.jobId),
              kv("reason", message.getKill().getReason()));
          r.execution.kill(message.getKill().getReason());
        }
      }
      case ACK -> {
        JobEnded ended = unacked.get(message.getAck().getJobId());
        if (ended != null && ended.getAttempt() == message.getAck().getAttempt()) unacked.remove(ended.getJobId());
      }
      default -> { }
    }
  }

  // ---------------------------------------------------------------- jobs

  private void assign(Assign assign) {
    int slot = assign.getSlot();
    if (slot < 0 || slot >= slots.length || slots[slot] != null || running.containsKey(assign.getJobId())) {
      LOG.warn("assignment refused: its slot is unknown or busy", kv("job_id", assign.getJobId()), kv("slot", slot));
      report(JobEnded.newBuilder().setJobId(assign.getJobId()).setAttempt(assign.getAttempt()).setOutcome("failed")
          .setErrorType("worker_lost").setLog("agent " + agentId + " slot " + slot + " is unknown or busy\n").build());
      return;
    }
    JsonObject env = new JsonObject();
    assign.getEnvMap().forEach(env::put);
    JobSpec spec = new JobSpec(assign.getJobId(), assign.getCommandList(), env, new JsonObject(),
        assign.getTimeoutS(), assign.getCpuM(), assign.getMemoryMb());
    JobExecution execution = runner.start(spec, this::onOutput, null);
    Running r = new Running(assign.getJobId(), assign.getAttempt(), slot, execution);
    slots[slot] = r;
    running.put(r.jobId, r);
    if (execution.pid() > 0) {
      send(AgentMessage.newBuilder().setStarted(JobStarted.newBuilder().setJobId(r.jobId).setAttempt(r.attempt)
          .setPid(execution.pid())).build());
    }
    execution.result().onComplete(ar -> {
      running.remove(r.jobId, r);
      if (slots[slot] == r) slots[slot] = null;
      JobResult result = ar.succeeded() ? ar.result()
          : new JobResult(WorkerProvider.Outcome.FAILED, null, 0, "worker_lost", String.valueOf(ar.cause()));
      JobEnded.Builder ended = JobEnded.newBuilder().setJobId(r.jobId).setAttempt(r.attempt)
          .setOutcome(result.outcome().name().toLowerCase()).setDurationMs(result.durationMs())
          .setLog(result.log() == null ? "" : result.log());
      if (result.exitCode() != null) ended.setHasExitCode(true).setExitCode(result.exitCode());
      if (result.errorType() != null) ended.setErrorType(result.errorType());
      report(ended.build());
    });
  }

  /** Keeps the result until acked and sends it (again after a reconnect, within Register). */
  private void report(JobEnded ended) {
    unacked.put(ended.getJobId(), ended);
    send(AgentMessage.newBuilder().setEnded(ended).build());
  }

  /** On a job's output thread: hands the chunk to the context when the bounds allow, else drops it. */
  private void onOutput(String jobId, byte[] bytes) {
    if (queuedLogBytes.addAndGet(bytes.length) > MAX_QUEUED_LOG_BYTES) {
      queuedLogBytes.addAndGet(-bytes.length);
      return;
    }
    context.runOnContext(v -> {
      Running r = running.get(jobId);
      int room = r == null ? 0 : (int) Math.max(0, Math.min(bytes.length, maxLogBytes - r.streamed));
      if (r == null || room == 0 || !registered) {
        queuedLogBytes.addAndGet(-bytes.length);
        return;
      }
      r.streamed += room;
      queuedLogBytes.addAndGet(room - bytes.length);
      output.add(AgentMessage.newBuilder().setLog(LogChunk.newBuilder().setJobId(jobId).setAttempt(r.attempt)
          .setData(ByteString.copyFrom(bytes, 0, room))).build());
      flush();
    });
  }

  private void heartbeat() {
    if (!registered) return;
    long silentMs = (System.nanoTime() - lastHeardNanos) / 1_000_000;
    GrpcClientRequest<AgentMessage, ServerMessage> s = stream;
    if (s != null && silentMs > SILENT_INTERVALS * HEARTBEAT_INTERVAL_MS) {
      drop(s, "no word from the server for " + silentMs + " ms");
      return;
    }
    send(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis())
        .setBusySlots(running.size())).build());
  }

  private void usage() {
    if (!registered) return;
    for (Running r : List.copyOf(running.values())) {
      runner.usage(r.execution).onSuccess(u -> {
        if (running.get(r.jobId) != r) return;
        send(AgentMessage.newBuilder().setUsage(Usage.newBuilder().setJobId(r.jobId).setAttempt(r.attempt)
            .setCpuPercent(u.cpuPercent()).setMemoryMb(u.memoryMb())).build());
      });
    }
  }

  // ---------------------------------------------------------------- sending

  private void send(AgentMessage message) {
    if (message.getKindCase() == AgentMessage.KindCase.HEARTBEAT && !control.isEmpty()) return;
    // while disconnected only what Register does not carry again is worth keeping: usage and heartbeats are not
    if (!registered && message.getKindCase() != AgentMessage.KindCase.STARTED) return;
    control.add(message);
    flush();
  }

  /** Writes queued messages while the stream accepts them: control first, then output. */
  private void flush() {
    GrpcClientRequest<AgentMessage, ServerMessage> s = stream;
    if (s == null || !registered) return;
    while (!s.writeQueueFull()) {
      AgentMessage next = control.poll();
      if (next == null) {
        next = output.poll();
        if (next == null) return;
        queuedLogBytes.addAndGet(-next.getLog().getData().size());
      }
      s.write(next);
    }
  }

  private static final class Running {
    final String jobId;
    final int attempt;
    final int slot;
    final JobExecution execution;
    long streamed;

    Running(String jobId, int attempt, int slot, JobExecution execution) {
      this.jobId = jobId;
      this.attempt = attempt;
      this.slot = slot;
      this.execution = execution;
    }
  }
}
