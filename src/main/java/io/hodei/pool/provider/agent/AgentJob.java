package io.hodei.pool.provider.agent;

import io.hodei.grpc.v1.Assign;
import io.hodei.grpc.v1.Kill;
import io.hodei.grpc.v1.ServerMessage;
import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.hodei.pool.provider.WorkerProvider.WorkerUsage;
import io.hodei.runner.LogTail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Instant;

/**
 * One run of a job on an agent slot, under the attempt the agent reports it with; its result completes once. A job
 * taken up after a server restart has no slot until its agent reports it.
 */
final class AgentJob implements JobExecution {
  final JobSpec spec;
  final int attempt;
  private final AgentLinks links;
  private final Promise<JobResult> result = Promise.promise();
  Agent.Slot slot;
  boolean sent;
  String killReason;
  volatile long pid = -1;
  long logBytes;
  volatile WorkerUsage usage;
  /** The output streamed so far, bounded like a stored log: what the job shows while it runs. */
  private LogTail live;
  private java.util.function.Consumer<byte[]> watcher;

  AgentJob(AgentLinks links, Agent.Slot slot, JobSpec spec, int attempt) {
    this.links = links;
    this.slot = slot;
    this.spec = spec;
    this.attempt = attempt;
  }

  AgentJob finishedAs(JobResult outcome) {
    result.complete(outcome);
    return this;
  }

  boolean done() { return result.future().isComplete(); }

  /** True when this is the run the agent reports on: this agent, this attempt. */
  boolean runsOn(Agent agent, int reportedAttempt) {
    return slot != null && slot.agent == agent && attempt == reportedAttempt;
  }

  void send() {
    Assign.Builder assign = Assign.newBuilder().setJobId(spec.jobId()).setAttempt(attempt).setSlot(slot.index)
        .addAllCommand(spec.command()).setTimeoutS(Math.max(0, spec.timeoutSeconds()))
        .setCpuM(spec.cpuM()).setMemoryMb(spec.memoryMb());
    if (spec.env() != null) {
      spec.env().forEach(e -> assign.putEnv(e.getKey(), e.getValue() == null ? "" : String.valueOf(e.getValue())));
    }
    sent = true;
    links.send(slot.agent, ServerMessage.newBuilder().setAssign(assign).build());
  }

  void sendKill() {
    if (slot == null) return;
    links.send(slot.agent, ServerMessage.newBuilder().setKill(Kill.newBuilder()
        .setJobId(spec.jobId()).setAttempt(attempt).setReason(killReason)).build());
  }

  void requestKill(String reason) {
    if (killReason != null) return;
    killReason = reason == null || reason.isBlank() ? "killed" : reason;
    if (sent) sendKill();
  }

  /** Ends the run: frees the slot and reports the result (once). */
  void complete(JobResult outcome) {
    if (slot != null && slot.job == this) slot.job = null;
    links.jobs.remove(spec.jobId(), this);
    result.tryComplete(outcome);
  }

  void output(byte[] bytes) {
    if (live == null) live = new LogTail(JobResult.MAX_LOG_BYTES);
    live.append(bytes, 0, bytes.length);
    if (watcher != null) watcher.accept(bytes);
  }

  @Override
  public void watchOutput(java.util.function.Consumer<byte[]> chunks) { watcher = chunks; }

  @Override
  public String liveLog() { return live == null ? null : live.render(); }

  @Override public String jobId() { return spec.jobId(); }
  @Override public long pid() { return pid; }
  @Override public Instant processStartedAt() { return null; }
  @Override public Future<JobResult> result() { return result.future(); }

  @Override
  public Future<Void> kill(String reason) {
    if (done()) return result.future().mapEmpty();
    if (!sent) {
      complete(new JobResult(Outcome.KILLED, null, 0, "killed", "killed before it started: " + reason + "\n"));
    } else {
      // a job taken up after a restart whose agent has not reported yet is killed when it does
      requestKill(reason);
    }
    return result.future().mapEmpty();
  }
}
