package io.hodei.metrics.collector;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** The collector's own health: runs, errors, the last run and the last error. Confined to its event loop. */
final class CollectorStatus {
  private final MetricsSettings settings;
  private long runs;
  private long errors;
  private long skipped;
  private Instant lastRunAt;
  private Instant lastSuccessAt;
  private Double lastDurationMs;
  private String lastError;
  private Instant lastErrorAt;

  CollectorStatus(MetricsSettings settings) { this.settings = settings; }

  void succeeded(Instant at, long nanos) {
    runs++;
    lastRunAt = at;
    lastSuccessAt = at;
    lastDurationMs = nanos / 1_000_000.0;
  }

  void failed(Instant at, long nanos, String error) {
    runs++;
    errors++;
    lastRunAt = at;
    lastDurationMs = nanos / 1_000_000.0;
    lastError = error;
    lastErrorAt = at;
  }

  /** A tick that came while the previous run was still waiting for its snapshot. */
  void skipped() { skipped++; }

  Instant lastSuccessAt() { return lastSuccessAt; }

  JsonObject toJson(int pools) {
    return new JsonObject()
        .put("enabled", settings.enabled())
        .put("interval_seconds", settings.collectionIntervalSeconds())
        .put("runs", runs)
        .put("errors", errors)
        .put("skipped", skipped)
        .put("last_run_at", iso(lastRunAt))
        .put("last_success_at", iso(lastSuccessAt))
        .put("last_duration_ms", lastDurationMs)
        .put("last_error", lastError)
        .put("last_error_at", iso(lastErrorAt))
        .put("pools", pools);
  }

  private static String iso(Instant t) { return t == null ? null : t.toString(); }
}
