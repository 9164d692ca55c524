package io.hodei.store;

import io.vertx.pgclient.PgException;

/**
 * A fencing token for the writes of a cluster's leader: {@code epoch} is the leadership epoch the node won
 * ({@code leadership.epoch}, V21). A {@link GroupCommit} whose connections carry a fence starts every transaction with
 * {@value #SQL}, which holds the fence lock shared until the transaction ends and fails it with SQLSTATE
 * {@value #REFUSED} once another node has taken over: a leader that lost its lock and did not notice yet commits no
 * placement, job change or worker change. {@code onRefused} hears of each refusal (the node steps down).
 * Without a fence (a single server) nothing is added to a transaction.
 */
public record Fence(long epoch, Runnable onRefused) {
  public static final String SQL = "SELECT hodei_fence($1)";
  /** The SQLSTATE of a refused (stale) epoch. */
  public static final String REFUSED = "HF001";
  /** Advisory lock key of leadership (session lock, held by the leader) and of the fence (transaction locks). */
  public static final long LEADER_LOCK = 4_801_001L;
  public static final long FENCE_LOCK = 4_801_002L;

  /** Whether {@code err} (or a cause) is a write refused for a stale epoch. */
  public static boolean refused(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg && REFUSED.equals(pg.getSqlState())) return true;
    }
    return false;
  }
}
