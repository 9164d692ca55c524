package io.hodei.tracing;

import io.hodei.common.Events;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Job lifecycle spans built from the scheduler's events, in the trace of the request that submitted the job:
 * <pre>
 *   POST /api/v1/jobs (server span)
 *   └─ job                 submitted_at .. finished_at
 *      ├─ job.queue        submitted_at (or the retry) .. admitted_at
 *      ├─ job.admit        admitted_at .. started_at (placement)
 *      └─ job.run          started_at .. finished_at (one per attempt)
 * </pre>
 * Spans carry the event's own timestamps. Open jobs are bounded by {@code maxOpenJobs}: the oldest is ended (marked
 * {@code hodei.job.evicted}) when a new one would exceed it. Event-loop confined.
 */
public final class JobTraceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(JobTraceVerticle.class);
  static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("hodei.job_id");
  static final AttributeKey<String> TENANT_ID = AttributeKey.stringKey("hodei.tenant_id");
  static final AttributeKey<String> POOL = AttributeKey.stringKey("hodei.pool");
  static final AttributeKey<String> WORKER_ID = AttributeKey.stringKey("hodei.worker_id");
  static final AttributeKey<String> STATE = AttributeKey.stringKey("hodei.job.state");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("hodei.job.error_type");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("hodei.job.attempt");
  static final AttributeKey<Boolean> EVICTED = AttributeKey.booleanKey("hodei.job.evicted");

  private final Tracing tracing;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private final Map<String, JobSpans> open;

  /** The spans of one job still open. */
  private static final class JobSpans {
    final Span job;
    Span queue;
    Span run;

    JobSpans(Span job) { this.job = job; }

    void endAll(Instant at) {
      for (Span s : new Span[] {queue, run, job}) if (s != null) s.end(at);
    }
  }

  public JobTraceVerticle(Tracing tracing) {
    this.tracing = tracing;
    int max = tracing.settings().maxOpenJobs();
    this.open = new LinkedHashMap<>(256, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, JobSpans> eldest) {
        if (size() <= max) return false;
        eldest.getValue().job.setAttribute(EVICTED, true);
        eldest.getValue().endAll(Instant.now());
        return true;
      }
    };
  }

  /** Jobs whose lifecycle spans are open (bounded by {@code observability.tracing.max_open_jobs}). */
  int openJobs() { return open.size(); }

  @Override
  public Future<?> start() {
    listen(Events.JOB_SUBMITTED, this::onSubmitted);
    listen(Events.JOB_STARTED, this::onStarted);
    listen(Events.JOB_RETRY, this::onRetry);
    listen(Events.JOB_FINISHED, this::onFinished);
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
  }

  @Override
  public Future<?> stop() {
    Instant now = Instant.now();
    open.values().forEach(s -> s.endAll(now));
    open.clear();
    return Future.join(consumers.stream().map(MessageConsumer::unregister).toList());
  }

  private void listen(String type, Consumer<JsonObject> handler) {
    consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(type), msg -> {
      try {
        handler.accept(msg.body());
      } catch (RuntimeException e) {
        LOG.warn("job event not traced", kv("event_type", type), kv("reason", String.valueOf(e.getMessage())));
      }
    }));
  }

  private void onSubmitted(JsonObject e) {
    String job = e.getString("job_id");
    if (job == null || open.containsKey(job)) return;
    Instant at = instant(e, "submitted_at");
    JobSpans spans = new JobSpans(startJob(e, at));
    spans.queue = child(spans, "job.queue", at).startSpan();
    open.put(job, spans);
  }

  private void onStarted(JsonObject e) {
    String job = e.getString("job_id");
    if (job == null) return;
    Instant admitted = instant(e, "admitted_at");
    Instant started = instant(e, "started_at");
    JobSpans spans = open.computeIfAbsent(job, id -> new JobSpans(startJob(e, admitted)));
    if (spans.queue != null) spans.queue.end(admitted);
    spans.queue = null;
    child(spans, "job.admit", admitted).startSpan().end(started);
    spans.run = child(spans, "job.run", started)
        .setAttribute(POOL, e.getString("pool_id", ""))
        .setAttribute(WORKER_ID, e.getString("worker_id", ""))
        .setAttribute(ATTEMPT, e.getLong("attempt", 0L))
        .startSpan();
  }

  private void onRetry(JsonObject e) {
    JobSpans spans = open.get(e.getString("job_id", ""));
    if (spans == null) return;
    Instant at = instant(e, "at");
    if (spans.run != null) {
      spans.run.setStatus(StatusCode.ERROR, String.valueOf(e.getString("error_type")));
      spans.run.setAttribute(ERROR_TYPE, String.valueOf(e.getString("error_type")));
      spans.run.end(at);
      spans.run = null;
    }
    spans.job.addEvent("retry", io.opentelemetry.api.common.Attributes.of(ATTEMPT, e.getLong("attempt", 0L),
        ERROR_TYPE, String.valueOf(e.getString("error_type"))), at.toEpochMilli(), TimeUnit.MILLISECONDS);
    if (spans.queue == null) spans.queue = child(spans, "job.queue", at).startSpan();
  }

  private void onFinished(JsonObject e) {
    String job = e.getString("job_id");
    if (job == null) return;
    Instant finished = instant(e, "finished_at");
    JobSpans spans = open.remove(job);
    if (spans == null) {
      String started = e.getString("started_at");
      spans = new JobSpans(startJob(e, started == null ? finished : instant(e, "started_at")));
    }
    String state = e.getString("state", "unknown");
    String error = e.getString("error_type");
    if (spans.run != null && error != null) spans.run.setStatus(StatusCode.ERROR, error);
    spans.job.setAttribute(STATE, state);
    if (error != null) spans.job.setAttribute(ERROR_TYPE, error);
    if (!"succeeded".equals(state)) spans.job.setStatus(StatusCode.ERROR, state);
    spans.job.addEvent("finished", finished.toEpochMilli(), TimeUnit.MILLISECONDS);
    spans.endAll(finished);
  }

  /** The job span: a child of the submitting request's server span when it is known here, else a root span. */
  private Span startJob(JsonObject e, Instant at) {
    String traceId = e.getString("trace_id");
    SpanBuilder builder = tracing.tracer().spanBuilder("job").setSpanKind(SpanKind.INTERNAL)
        .setStartTimestamp(at)
        .setAttribute(JOB_ID, e.getString("job_id", ""))
        .setAttribute(TENANT_ID, e.getString("tenant_id", ""));
    SpanContext request = traceId == null ? null : tracing.recentServerSpan(traceId);
    if (request != null) return builder.setParent(Context.root().with(Span.wrap(request))).startSpan();
    return tracing.startRoot(builder.setNoParent(), traceId);
  }

  private SpanBuilder child(JobSpans spans, String name, Instant at) {
    return tracing.tracer().spanBuilder(name).setSpanKind(SpanKind.INTERNAL)
        .setParent(Context.root().with(spans.job)).setStartTimestamp(at);
  }

  private static Instant instant(JsonObject e, String field) {
    String value = e.getString(field);
    if (value == null) return Instant.now();
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException ex) {
      return Instant.now();
    }
  }
}
