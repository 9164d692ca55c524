package io.hodei.pool.provider.agent;

import io.hodei.grpc.v1.JobEnded;
import io.hodei.grpc.v1.RunningJob;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Agents outlive the server: after a restart, the jobs they kept running are taken up again instead of being run
 * twice. For one reconnect grace after the provider starts:
 * <ol>
 * <li>the pool domain reclaims the workers of agent pools it reloads ({@link #reclaim}), so they are kept;
 * <li>agents reconnect and report what they run and what ended while the server was away; reports of jobs such a
 * worker ran are held (a running one keeps its slot, an ended one is not acked yet);
 * <li>the scheduler asks to take each running job up ({@link #adopt}, with the attempt PostgreSQL holds): the
 * agent's report of that attempt binds the worker to the slot (or completes the run with the reported end).
 * </ol>
 * When the grace ends, whatever was not matched is settled as the database says: held reports are killed on the
 * agent (or acked and dropped), adopted jobs no agent reported end as {@code worker_lost} (the scheduler retries
 * them), and reclaimed workers left without a slot leave the pool. Reclaimed workers that wait for no running job
 * take free slots of their pool's agents as these come back ({@link #bindIdle}).
 */
final class RestartAdoption {
  private static final Logger LOG = LoggerFactory.getLogger(RestartAdoption.class);

  private final AgentLinks links;
  private final long graceMs;
  /** Reclaimed workers not bound to a slot yet, by worker id. */
  private final Map<String, Expected> expected = new HashMap<>();
  /** Reports of jobs a reclaimed worker ran, not taken up yet, by job id. */
  private final Map<String, Held> held = new HashMap<>();
  private final long timer;
  private boolean open = true;

  RestartAdoption(AgentLinks links, long graceMs) {
    this.links = links;
    this.graceMs = graceMs;
    this.timer = links.vertx.setTimer(Math.max(1, graceMs), id -> close());
  }

  private static final class Expected {
    final String workerId;
    final String poolId;
    /** The job the worker ran: as its row said, or as the scheduler says when it takes the job up. */
    String jobId;
    AgentJob adopted;
    /** A new job given to the worker before its agent came back: sent once the worker has a slot. */
    AgentJob pending;

    Expected(String workerId, String poolId, String jobId) {
      this.workerId = workerId;
      this.poolId = poolId;
      this.jobId = jobId;
    }
  }

  /** What an agent reported of a job a reclaimed worker ran: running in a slot, or ended. */
  private record Held(Agent agent, int attempt, Agent.Slot slot, long pid, JobEnded ended) {}

  /**
   * A worker of a previous server process is kept during the grace: its agent may still run its job. Idle ones too:
   * a crash may have come before the worker's row recorded the job its job row names (the job row is the judge).
   */
  boolean reclaim(String workerId, String poolId, String jobId) {
    if (!open) return false;
    expected.put(workerId, new Expected(workerId, poolId, jobId));
    return true;
  }

  /** A new job for a reclaimed worker whose agent is not back yet: it is sent when the worker gets a slot. */
  AgentJob runWhenBack(String workerId, JobSpec spec, int attempt) {
    Expected e = expected.get(workerId);
    if (e == null || e.pending != null || e.adopted != null && !e.adopted.done()) return null;
    AgentJob job = new AgentJob(links, null, spec, attempt);
    e.pending = job;
    links.jobs.put(spec.jobId(), job);
    return job;
  }

  /**
   * Gives the agent's free slots (after its reports were matched) to reclaimed workers of its pool that wait for no
   * report of a running job: idle ones, and those whose job's end is known. A job given to one meanwhile is sent.
   */
  void bindIdle(Agent agent) {
    for (Expected e : List.copyOf(expected.values())) {
      if (!e.poolId.equals(agent.poolId) || e.adopted != null && !e.adopted.done()) continue;
      if (e.adopted == null && e.jobId != null && held.containsKey(e.jobId)) continue;
      Agent.Slot slot = agent.freeSlot();
      if (slot == null) return;
      expected.remove(e.workerId);
      links.bind(slot, e.workerId);
      AgentJob job = e.pending;
      if (job != null && !job.done()) {
        job.slot = slot;
        slot.job = job;
        job.send();
      }
    }
  }

  boolean expects(String workerId) { return expected.containsKey(workerId); }

  /** Reclaimed workers of the pool not bound to a slot yet (the pool's size counts them while the grace lasts). */
  int unbound(String poolId) {
    return (int) expected.values().stream().filter(e -> e.poolId.equals(poolId)).count();
  }

  /** The scheduler takes up the job a reclaimed worker ran, under the attempt PostgreSQL holds. */
  AgentJob adopt(String workerId, String jobId, int attempt) {
    Expected e = expected.get(workerId);
    if (e == null || e.jobId != null && !jobId.equals(e.jobId) || e.adopted != null || e.pending != null
        || attempt < 1) {
      return null;
    }
    e.jobId = jobId;
    AgentJob job = new AgentJob(links, null, new JobSpec(jobId, List.of(), new JsonObject(), new JsonObject(), 0, 0,
        0, attempt), attempt);
    job.sent = true;
    e.adopted = job;
    links.jobs.put(jobId, job);
    Held report = held.get(jobId);
    if (report != null && report.attempt() == attempt) {
      held.remove(jobId);
      attach(e, report);
    }
    return job;
  }

  /** A job an agent runs at its registration: true when it is held or attached here (not to be killed). */
  boolean runningAtRegistration(Agent agent, RunningJob running) {
    Expected e = expectedFor(running.getJobId());
    if (e == null || running.getSlot() < 0 || running.getSlot() >= agent.slots.length) return false;
    Agent.Slot slot = agent.slots[running.getSlot()];
    if (!slot.free()) return false;
    Held report = new Held(agent, running.getAttempt(), slot, running.getPid(), null);
    if (e.adopted != null) {
      if (e.adopted.attempt != running.getAttempt()) return false;
      attach(e, report);
    } else {
      slot.held = running.getJobId();
      held.put(running.getJobId(), report);
    }
    return true;
  }

  /**
   * A job's end an agent reports: true when it is taken here, applied to the job the scheduler took up (and acked),
   * or kept unacked until the scheduler takes it up.
   */
  boolean endedWhileAway(Agent agent, JobEnded ended) {
    Expected e = expectedFor(ended.getJobId());
    if (e == null) return false;
    Held report = new Held(agent, ended.getAttempt(), null, -1, ended);
    if (e.adopted == null) {
      held.put(ended.getJobId(), report);
    } else if (e.adopted.attempt == ended.getAttempt()) {
      attach(e, report);
    } else {
      return false;
    }
    return true;
  }

  private Expected expectedFor(String jobId) {
    if (!open) return null;
    for (Expected e : expected.values()) if (jobId.equals(e.jobId)) return e;
    return null;
  }

  /** The job is back: its worker takes the slot it runs in (or a free one of its agent when it already ended). */
  private void attach(Expected e, Held report) {
    AgentJob job = e.adopted;
    Agent agent = report.agent();
    Agent.Slot slot = report.slot() != null ? report.slot() : agent.freeSlot();
    if (slot != null) {
      slot.held = null;
      expected.remove(e.workerId);
      links.bind(slot, e.workerId);
    }
    LOG.info("job re-attached after a server restart", kv("agent_id", agent.id), kv("job_id", job.jobId()),
        kv("attempt", job.attempt), kv("worker_id", e.workerId), kv("ended", report.ended() != null));
    if (report.ended() != null) {
      job.slot = slot;
      job.complete(AgentReports.result(report.ended()));
      links.ack(agent, report.ended().getJobId(), report.ended().getAttempt());
      return;
    }
    job.slot = slot;
    slot.job = job;
    job.pid = report.pid();
    if (job.killReason != null) job.sendKill();
  }

  /** The grace is over: the database has had its say, and whatever was not matched is settled. */
  void close() {
    if (!open) return;
    open = false;
    links.vertx.cancelTimer(timer);
    Set<String> pools = new LinkedHashSet<>();
    for (Map.Entry<String, Held> entry : held.entrySet()) {
      Held report = entry.getValue();
      if (report.ended() != null) {
        links.ack(report.agent(), entry.getKey(), report.attempt());
      } else {
        LOG.warn("a job an agent ran across the restart is not taken up: killing it", kv("agent_id",
            report.agent().id), kv("job_id", entry.getKey()));
        report.slot().held = null;
        report.slot().killing = entry.getKey();
        links.send(report.agent(), io.hodei.grpc.v1.ServerMessage.newBuilder().setKill(io.hodei.grpc.v1.Kill
            .newBuilder().setJobId(entry.getKey()).setAttempt(report.attempt())
            .setReason("the server does not run this job any more")).build());
      }
    }
    held.clear();
    for (Expected e : List.copyOf(expected.values())) {
      pools.add(e.poolId);
      if (e.adopted != null && !e.adopted.done()) {
        LOG.warn("no agent reported a job within the grace after the restart", kv("job_id", e.jobId),
            kv("worker_id", e.workerId), kv("grace_seconds", graceMs / 1000));
        e.adopted.complete(new JobResult(Outcome.LOST, null, 0, AgentReports.WORKER_LOST,
            "no agent reported the job within " + graceMs / 1000 + " s of the server's restart\n"));
      }
      if (e.pending != null && !e.pending.done()) {
        e.pending.complete(new JobResult(Outcome.FAILED, null, 0, AgentReports.WORKER_LOST, "worker " + e.workerId
            + " did not come back within " + graceMs / 1000 + " s of the server's restart; the job did not start\n"));
      }
      links.removeWorker(e.poolId, e.workerId, "its agent did not come back within " + graceMs / 1000
          + " s of the server's restart");
    }
    expected.clear();
    pools.forEach(poolId -> links.resizePool(poolId, 0));
  }

  /** A reclaimed worker is terminated before it came back: its adopted job is lost. */
  void forget(String workerId) {
    Expected e = expected.remove(workerId);
    if (e == null) return;
    for (AgentJob job : new AgentJob[] {e.adopted, e.pending}) {
      if (job != null) {
        job.complete(new JobResult(Outcome.LOST, null, 0, AgentReports.WORKER_LOST,
            "worker " + workerId + " was terminated\n"));
      }
    }
  }

  void stop() {
    open = false;
    links.vertx.cancelTimer(timer);
  }
}
