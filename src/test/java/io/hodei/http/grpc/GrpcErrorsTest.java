package io.hodei.http.grpc;

import io.hodei.common.DomainException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The status table of docs/api.md's gRPC section, including the statuses the tenant service cannot produce yet. */
class GrpcErrorsTest {
  private static GrpcStatus statusOf(int httpStatus) {
    return GrpcErrors.of(new DomainException(httpStatus, "t", "d")).status();
  }

  @Test
  void domainStatusesMapToGrpcStatuses() {
    assertThat(statusOf(400)).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(statusOf(422)).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(statusOf(401)).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(statusOf(403)).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(statusOf(404)).isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(statusOf(409)).isEqualTo(GrpcStatus.ALREADY_EXISTS);
    assertThat(statusOf(412)).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(statusOf(429)).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    assertThat(statusOf(503)).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(statusOf(500)).isEqualTo(GrpcStatus.INTERNAL);
    assertThat(statusOf(418)).isEqualTo(GrpcStatus.INTERNAL);
  }

  @Test
  void aConflictListingAllowedActionsIsAFailedPrecondition() {
    DomainException illegal = new DomainException(409, "Conflict", "a pool in state 'paused' cannot pause",
        new JsonObject().put("state", "paused").put("allowed_actions", new JsonArray().add("resume")));
    assertThat(GrpcErrors.of(illegal).status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(GrpcErrors.of(DomainException.conflict("a pool with id 'x' already exists")).status())
        .isEqualTo(GrpcStatus.ALREADY_EXISTS);
  }

  @Test
  void unexpectedFailuresSayNothingOfTheirInternals() {
    GrpcErrors.Failure failure = GrpcErrors.of(new IllegalStateException("secret table xyz is broken"));
    assertThat(failure.status()).isEqualTo(GrpcStatus.INTERNAL);
    assertThat(failure.message()).doesNotContain("xyz").contains("server log");
  }

  @Test
  void theMessageListsEveryInvalidField() {
    JsonArray errors = new JsonArray()
        .add(new JsonObject().put("field", "cpu_m").put("message", "must be between 0 and 10"))
        .add(new JsonObject().put("field", "name").put("message", "is required"));
    GrpcErrors.Failure failure = GrpcErrors.of(DomainException.invalid(422, errors));
    assertThat(failure.message())
        .isEqualTo("2 fields are invalid: cpu_m: must be between 0 and 10; name: is required");
  }

  @Test
  void oversizedMessagesAreResourceExhausted() {
    assertThat(GrpcErrors.of(new MessageSizeOverflowException(10_000_000)).status())
        .isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
  }
}
