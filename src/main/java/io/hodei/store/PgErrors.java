package io.hodei.store;

import io.hodei.common.DomainException;
import io.vertx.pgclient.PgException;

/** Maps PostgreSQL SQLSTATEs to domain failures: nothing a user can cause ends as a 500. */
public final class PgErrors {
  private PgErrors() {}

  public static DomainException map(PgException e) {
    String state = e.getSqlState() == null ? "" : e.getSqlState();
    return switch (state) {
      case "23505" -> DomainException.conflict(uniqueViolationDetail(e));
      case "23503" -> DomainException.conflict("the request refers to something that does not exist or is still in use");
      case "23514", "22001", "22003", "22P02" -> DomainException.unprocessable("a value is out of its allowed range");
      case "40001", "40P01" -> DomainException.conflict("a concurrent change won; retry the request");
      case "57014" -> DomainException.unavailable("the database query timed out");
      case "53300", "57P01", "57P03", "08006", "08001" -> DomainException.unavailable("the database is not available");
      default -> new DomainException(500, "Internal Server Error", "a database error occurred; see the server log");
    };
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
