package io.hodei.pool.provider.agent;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hodei.grpc.v1.AgentMessage;
import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.Kill;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.hodei.pool.provider.WorkerProvider.WorkerUsage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * What agents report on their streams after registering: heartbeats, starts, output, usage and ends. Every report
 * is checked against what the server gave that agent (job id and attempt); an agent is not trusted with our data.
 */
final class AgentReports {
  private static final Logger LOG = LoggerFactory.getLogger(AgentReports.class);
  static final String WORKER_LOST = "worker_lost";
  private static final Set<String> ERROR_TYPES = Set.of("exit_code", "timeout", "killed", "invalid_command",
      WORKER_LOST);

  private final AgentLinks links;
  private final RestartAdoption adoption;
  /** Told the pool whose agent freed a slot (provisionings may be waiting for one). */
  private final Consumer<String> poolSlotFreed;

  AgentReports(AgentLinks links, RestartAdoption adoption, Consumer<String> poolSlotFreed) {
    this.links = links;
    this.adoption = adoption;
    this.poolSlotFreed = poolSlotFreed;
  }

  void onInbound(Message<Buffer> msg) {
    Agent agent = links.sessions.get(msg.headers().get(AgentAddresses.SESSION));
    msg.reply(null);
    if (agent == null) return;
    AgentMessage message;
    try {
      message = AgentMessage.parseFrom(msg.body().getBytes());
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("malformed agent message ignored", kv("agent_id", agent.id));
      return;
    }
    agent.lastHeartbeatNanos = System.nanoTime();
    switch (message.getKindCase()) {
      case HEARTBEAT -> links.send(agent, ServerMessage.newBuilder().setHeartbeatAck(
          io.hodei.grpc.v1.HeartbeatAck.newBuilder().setSentAtMs(message.getHeartbeat().getSentAtMs())).build());
      case STARTED -> {
        AgentJob job = claimed(agent, message.getStarted().getJobId(), message.getStarted().getAttempt(), true);
        if (job != null) job.pid = message.getStarted().getPid();
      }
      case LOG -> {
        AgentJob job = claimed(agent, message.getLog().getJobId(), message.getLog().getAttempt(), false);
        int size = message.getLog().getData().size();
        long kept = job == null ? 0 : Math.max(0, Math.min(size, JobResult.MAX_LOG_BYTES - job.logBytes));
        if (job != null) {
          job.logBytes += size;
          job.output(message.getLog().getData().toByteArray());
        }
        links.poolMeters(agent.poolId).bytes(kept, size - kept);
      }
      case USAGE -> {
        AgentJob job = claimed(agent, message.getUsage().getJobId(), message.getUsage().getAttempt(), false);
        if (job != null) {
          job.usage = new WorkerUsage(Math.max(0, message.getUsage().getCpuPercent()),
              Math.max(0, message.getUsage().getMemoryMb()));
        }
      }
      case ENDED -> ended(agent, message.getEnded());
      case REGISTER -> LOG.warn("agent sent Register twice on one stream; ignored", kv("agent_id", agent.id));
      default -> LOG.debug("empty agent message ignored", kv("agent_id", agent.id));
    }
  }

  /**
   * The job the agent reports on, when the server gave it to this agent under that attempt; else null and, when
   * {@code killUnknown}, the agent is told to kill what it runs under that id.
   */
  private AgentJob claimed(Agent agent, String jobId, int attempt, boolean killUnknown) {
    AgentJob job = links.jobs.get(jobId);
    if (job != null && job.runsOn(agent, attempt)) return job;
    if (killUnknown) {
      LOG.warn("agent reported a job it was not given: killing it there", kv("agent_id", agent.id),
          kv("job_id", jobId), kv("attempt", attempt));
      kill(agent, jobId, attempt, "this job was not assigned to this agent");
    }
    return null;
  }

  void kill(Agent agent, String jobId, int attempt, String reason) {
    links.send(agent, ServerMessage.newBuilder().setKill(Kill.newBuilder().setJobId(jobId).setAttempt(attempt)
        .setReason(reason)).build());
  }

  /** An ended job, live or in a Register: applied when it is the agent's run, acked unless kept for adoption. */
  void ended(Agent agent, JobEnded ended) {
    AgentJob job = links.jobs.get(ended.getJobId());
    if (job != null && job.runsOn(agent, ended.getAttempt())) {
      job.complete(result(ended));
    } else if (adoption.endedWhileAway(agent, ended)) {
      // kept (not acked) until the scheduler takes the job up, or the restart grace ends
      return;
    } else {
      LOG.warn("agent reported the end of a job it does not run for the server; ignored", kv("agent_id", agent.id),
          kv("job_id", ended.getJobId()), kv("attempt", ended.getAttempt()));
      for (Agent.Slot slot : agent.slots) {
        if (ended.getJobId().equals(slot.killing)) {
          slot.killing = null;
          poolSlotFreed.accept(agent.poolId);
        }
      }
    }
    // acked either way: the agent keeps a result until it is acked and would send it again forever
    links.ack(agent, ended.getJobId(), ended.getAttempt());
  }

  /** The agent's report as a result, its values bounded and checked. */
  static JobResult result(JobEnded ended) {
    Outcome outcome = switch (ended.getOutcome()) {
      case "succeeded" -> Outcome.SUCCEEDED;
      case "timed_out" -> Outcome.TIMED_OUT;
      case "killed" -> Outcome.KILLED;
      default -> Outcome.FAILED;
    };
    Integer exitCode = ended.getHasExitCode() ? ended.getExitCode() : null;
    if (outcome == Outcome.SUCCEEDED && (exitCode == null || exitCode != 0)) outcome = Outcome.FAILED;
    String errorType = outcome == Outcome.SUCCEEDED ? null
        : ERROR_TYPES.contains(ended.getErrorType()) ? ended.getErrorType() : "exit_code";
    return new JobResult(outcome, exitCode, Math.max(0, ended.getDurationMs()), errorType, boundedLog(ended.getLog()));
  }

  /** The newest {@link JobResult#MAX_LOG_BYTES} bytes of a log, without NUL (PostgreSQL text cannot hold it). */
  static String boundedLog(String log) {
    String clean = log.indexOf('\0') >= 0 ? log.replace('\0', '?') : log;
    byte[] bytes = clean.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= JobResult.MAX_LOG_BYTES) return clean;
    String marker = "[... " + (bytes.length - JobResult.MAX_LOG_BYTES + 64) + " bytes dropped ...]\n";
    String tail = new String(bytes, bytes.length - JobResult.MAX_LOG_BYTES + 64, JobResult.MAX_LOG_BYTES - 64,
        StandardCharsets.UTF_8);
    // a cut through a multi-byte character decodes to one replacement character at the start: drop it
    if (!tail.isEmpty() && tail.charAt(0) == '\uFFFD') tail = tail.substring(1);
    return marker + tail;
  }
}
