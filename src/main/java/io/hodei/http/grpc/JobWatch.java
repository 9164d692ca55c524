package io.hodei.http.grpc;

import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.WatchJobsRequest;
import io.hodei.scheduler.SchedulerAddresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code JobService/WatchJobs}: the job event log (PostgreSQL {@code job_event}, id = sequence) after
 * {@code from_sequence}, then live, as one server stream of typed events (see {@link TypedEvents}).
 *
 * <p>Replay and live are the same loop ({@link PolledStream}): read the events after the last sequence sent
 * ({@code hodei.job.events_since}, pages of {@value #PAGE}); a full page is followed at once by the next, otherwise
 * the next read is in {@value #POLL_MS} ms, or sooner when a {@code hodei.events.job.*} event of the watched
 * tenant/job arrives. The scheduler draws sequences in commit order, so reading {@code id > last} misses nothing and
 * repeats nothing, and the stream is in sequence order. Live latency is at most about {@value #POLL_MS} ms plus a
 * query. A failed read ends the stream with its status (the client resumes with {@code from_sequence} = the last
 * sequence it saw).
 *
 * <p>It also ends by itself, with OK: with {@code watch = false} at the first read that finds no more events (the
 * log as it was, replayed); with {@code until_final} once each listed job is final and its final event was sent (a
 * job already final when the stream starts counts once the replay has caught up, as its final event may lie
 * before {@code from_sequence}). Events leave the log only with their job (scheduler.job_retention_days), so every
 * sequence can be resumed from; a negative one is INVALID_ARGUMENT.
 */
final class JobWatch {
  static final long POLL_MS = 250;
  static final int PAGE = 500;
  static final int MAX_UNTIL_FINAL = 1000;
  private static final List<String> WAKE_UPS = List.of(Events.JOB_SUBMITTED, Events.JOB_STARTED, Events.JOB_FINISHED,
      Events.JOB_RETRY);
  /** Streams open now, across servers of this JVM (tests check that cancelled streams let go). */
  static final AtomicInteger OPEN = new AtomicInteger();

  private final GrpcTranslator grpc;

  JobWatch(GrpcTranslator grpc) { this.grpc = grpc; }

  Handler<GrpcServerRequest<WatchJobsRequest, JobEvent>> handler() {
    return call -> {
      Stream stream = new Stream(grpc.vertx(), call);
      stream.open(grpc, (request, caller) -> validate(request)
          .compose(v -> stream.finalAlready(request, caller))
          .map(done -> {
            stream.start(request, done);
            return null;
          }));
    };
  }

  private static Future<Void> validate(WatchJobsRequest request) {
    if (request.getFromSequence() < 0) {
      return Future.failedFuture(DomainException.badRequest("from_sequence must be 0 or more"));
    }
    if (request.getUntilFinalCount() > MAX_UNTIL_FINAL) {
      return Future.failedFuture(DomainException.unprocessable("until_final lists at most " + MAX_UNTIL_FINAL
          + " job ids"));
    }
    return Future.succeededFuture();
  }

  private static final class Stream extends PolledStream<WatchJobsRequest, JobEvent> {
    private String jobId;
    private String tenantId;
    private long last;
    private boolean started;
    /** watch = false: end once the log is replayed. */
    private boolean replayOnly;
    /** until_final: the listed jobs not known final yet (null when the stream does not end this way). */
    private Set<String> pending;
    /** Listed jobs final before the stream started: done once the replay has caught up. */
    private Set<String> finalAtStart = Set.of();

    Stream(Vertx vertx, GrpcServerRequest<WatchJobsRequest, JobEvent> call) {
      super(vertx, call, POLL_MS);
    }

    /**
     * The until_final jobs that are final already (each one read as the caller: another tenant's or an unknown id
     * fails the call with NOT_FOUND).
     */
    Future<Set<String>> finalAlready(WatchJobsRequest request, Caller who) {
      if (request.getUntilFinalCount() == 0) return Future.succeededFuture(Set.of());
      GrpcTranslator.Call bus = new GrpcTranslator.Call(vertx, who, traceId);
      List<Future<JsonObject>> jobs = new ArrayList<>();
      for (String id : new LinkedHashSet<>(request.getUntilFinalList())) {
        jobs.add(bus.request(SchedulerAddresses.GET, BusRequest.envelope(new JsonObject().put("id", id),
            new JsonObject(), new JsonObject(), null)));
      }
      return Future.all(jobs).map(all -> {
        Set<String> done = new HashSet<>();
        for (Future<JsonObject> job : jobs) {
          if (TypedEvents.FINAL.contains(job.result().getString("state"))) done.add(job.result().getString("id"));
        }
        return done;
      });
    }

    void start(WatchJobsRequest request, Set<String> alreadyFinal) {
      if (closed()) return;
      replayOnly = request.hasWatch() && !request.getWatch();
      if (request.getUntilFinalCount() > 0) {
        pending = new HashSet<>(request.getUntilFinalList());
        finalAtStart = alreadyFinal;
      }
      jobId = request.getJobId().isEmpty() ? null : request.getJobId();
      if (jobId == null && pending != null && pending.size() == 1) jobId = pending.iterator().next();
      tenantId = request.getTenantId().isEmpty() ? null : request.getTenantId();
      last = request.getFromSequence();
      started = true;
      OPEN.incrementAndGet();
      for (String type : WAKE_UPS) {
        wakeOn(Events.address(type), event -> matches(event.getString("tenant_id"), event.getString("job_id")));
      }
      begin();
    }

    /** Whether an event may concern this stream (the domain decides what the caller may actually see). */
    private boolean matches(String eventTenant, String eventJob) {
      if (jobId != null && !jobId.equals(eventJob)) return false;
      if (pending != null && !pending.contains(eventJob)) return false;
      String tenant = tenantId != null ? tenantId : caller.tenantId();
      return tenant == null || tenant.equals(eventTenant);
    }

    @Override
    protected Future<Next> readOnce() {
      JsonObject query = new JsonObject().put("after", Long.toString(last)).put("limit", Integer.toString(PAGE));
      if (jobId != null) query.put("job", jobId);
      if (tenantId != null) query.put("tenant", tenantId);
      GrpcTranslator.Call bus = new GrpcTranslator.Call(vertx, caller, traceId);
      return bus.request(SchedulerAddresses.EVENTS_SINCE, BusRequest.envelope(new JsonObject(), query,
          new JsonObject(), null)).map(reply -> {
            JsonArray items = reply.getJsonArray("items", new JsonArray());
            for (Object item : items) {
              JsonObject e = (JsonObject) item;
              long sequence = e.getLong("sequence");
              if (sequence <= last) continue;
              last = sequence;
              String job = e.getString("job_id");
              if (pending != null && !pending.contains(job)) continue;
              if (!send(TypedEvents.of(e))) return Next.END;
              if (pending != null && TypedEvents.FINAL.contains(e.getString("state"))) pending.remove(job);
            }
            // the log may have been read further than the events that matched (another tenant's, another job's)
            last = Math.max(last, reply.getLong("last_sequence", last));
            boolean caughtUp = !reply.getBoolean("more", items.size() >= PAGE);
            if (pending != null && caughtUp) pending.removeAll(finalAtStart);
            if ((replayOnly && caughtUp) || (pending != null && pending.isEmpty())) return Next.END;
            return caughtUp ? Next.LATER : Next.NOW;
          });
    }

    @Override
    protected void released() {
      if (started) OPEN.decrementAndGet();
    }
  }
}
