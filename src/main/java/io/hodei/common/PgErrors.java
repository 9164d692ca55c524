package io.hodei.common;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/** Maps PostgreSQL failures to domain failures: nothing a user can cause ends as a 500. */
public final class PgErrors {
  private PgErrors() {}

  /**
   * SQLSTATEs that say the database (or this connection to it) is unavailable for now, not that the statement is
   * wrong: connection exceptions (class 08), shutdown and start-up (57P01..57P03), resource limits (class 53) and
   * lost serialisation races. The same statement may succeed on another try.
   */
  private static final Set<String> TRANSIENT_STATES = Set.of("57P01", "57P02", "57P03", "53000", "53100", "53200",
      "53300", "53400", "40001", "40P01");

  public static DomainException map(PgException e) {
    String state = e.getSqlState() == null ? "" : e.getSqlState();
    return switch (state) {
      case "23505" -> DomainException.conflict(uniqueViolationDetail(e));
      case "23503" -> DomainException.conflict("the request refers to something that does not exist or is still in use");
      case "23514", "22001", "22003", "22P02" -> DomainException.unprocessable("a value is out of its allowed range");
      case "22021" -> DomainException.badRequest("a text value holds a byte sequence that is not valid text");
      case "40001", "40P01" -> DomainException.conflict("a concurrent change won; retry the request");
      case "57014" -> DomainException.unavailable("the database query timed out");
      // a cluster node that lost its leadership (io.hodei.store.Fence): another node serves the request now
      case "HF001" -> DomainException.unavailable("this node no longer leads the cluster; try again");
      default -> transientState(state) ? DomainException.unavailable("the database is not available")
          : new DomainException(500, "Internal Server Error", "a database error occurred; see the server log");
    };
  }

  /**
   * True when the failure says the database could not be reached or the connection broke (connect refused, reset,
   * closed, a timeout waiting for a connection, or a connection-class SQLSTATE): the database is unavailable, and
   * the same request may succeed later. Walks the causes.
   */
  public static boolean isTransient(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg) return transientState(pg.getSqlState());
      if (t instanceof ClosedConnectionException || t instanceof IOException || t instanceof TimeoutException
          || t instanceof io.vertx.core.impl.NoStackTraceTimeoutException) {
        return true;
      }
      String message = t.getMessage();
      if (t instanceof io.vertx.core.VertxException && message != null
          && (message.contains("onnection") || message.contains("closed"))) {
        return true;
      }
    }
    return false;
  }

  private static boolean transientState(String state) {
    return state != null && (state.startsWith("08") || TRANSIENT_STATES.contains(state));
  }

  private static String uniqueViolationDetail(PgException e) {
    String constraint = e.getConstraint();
    if (constraint == null) return "a resource with the same unique value already exists";
    return switch (constraint) {
      case "tenant_name_key" -> "a tenant with this name already exists";
      case "tenant_pkey" -> "a tenant with this id already exists";
      default -> "a resource with the same unique value already exists (" + constraint + ")";
    };
  }
}
