package io.hodei.pool;

import io.hodei.common.Events;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Publishes a running job's output as {@link Events#JOB_OUTPUT} events for the bridge: chunks are gathered for at
 * most {@value #BATCH_MS} ms (a chatty job makes a few events a second, not one per write), and a run publishes at
 * most {@link JobResult#MAX_LOG_BYTES} bytes (its stored log keeps the newest output). Confined to the pool
 * verticle's event loop.
 */
final class LiveOutput implements Consumer<byte[]> {
  static final long BATCH_MS = 250;

  private final Vertx vertx;
  private final Events events;
  private final String jobId;
  private final String tenantId;
  private final int attempt;
  private Buffer pending = Buffer.buffer();
  private long published;
  private long timer = -1;
  private boolean closed;

  LiveOutput(Vertx vertx, Events events, String jobId, String tenantId, int attempt) {
    this.vertx = vertx;
    this.events = events;
    this.jobId = jobId;
    this.tenantId = tenantId;
    this.attempt = attempt;
  }

  @Override
  public void accept(byte[] chunk) {
    long room = JobResult.MAX_LOG_BYTES - published - pending.length();
    if (closed || room <= 0) return;
    pending.appendBytes(chunk, 0, (int) Math.min(room, chunk.length));
    if (timer < 0) timer = vertx.setTimer(BATCH_MS, id -> {
      timer = -1;
      flush();
    });
  }

  /** The run ended: what is gathered goes out now, nothing after. */
  void close() {
    if (closed) return;
    if (timer >= 0) vertx.cancelTimer(timer);
    flush();
    closed = true;
  }

  private void flush() {
    if (closed || pending.length() == 0) return;
    published += pending.length();
    // a multi-byte character cut between batches shows as a replacement character; the stored log is exact
    String data = new String(pending.getBytes(), StandardCharsets.UTF_8).replace('\0', '?');
    pending = Buffer.buffer();
    events.publish(Events.JOB_OUTPUT, new JsonObject().put("job_id", jobId).put("tenant_id", tenantId)
        .put("attempt", attempt).put("data", data));
  }
}
