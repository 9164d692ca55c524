package io.hodei.http.grpc;

import io.hodei.common.DomainException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The status table of docs/grpc.md, including the statuses the tenant service cannot produce yet. */
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
  void grpcMessageKeepsPrintableAsciiAndPercentEncodesTheRest() {
    assertThat(GrpcErrors.percentEncode("2 fields are invalid: cpu_m: must be <= 10; see 'Authorization: Bearer'"))
        .isEqualTo("2 fields are invalid: cpu_m: must be <= 10; see 'Authorization: Bearer'");
    assertThat(GrpcErrors.percentEncode("100% j-ü")).isEqualTo("100%25 j-%C3%BC");
    assertThat(GrpcErrors.percentEncode("tab\tnew\n")).isEqualTo("tab%09new%0A");
  }

  @Test
  void namedFieldsBecomeABadRequestDetail() throws Exception {
    JsonArray errors = new JsonArray()
        .add(new JsonObject().put("field", "jobs[1].cpu_m").put("message", "must be between 0 and 10"));
    GrpcErrors.Failure failure = GrpcErrors.of(DomainException.invalid(422, errors));
    com.google.rpc.Status status = com.google.rpc.Status.parseFrom(java.util.Base64.getDecoder()
        .decode(failure.details()));
    assertThat(status.getCode()).isEqualTo(GrpcStatus.INVALID_ARGUMENT.code);
    assertThat(status.getMessage()).isEqualTo(failure.message());
    com.google.rpc.BadRequest badRequest = status.getDetails(0).unpack(com.google.rpc.BadRequest.class);
    assertThat(badRequest.getFieldViolations(0).getField()).isEqualTo("jobs[1].cpu_m");
    assertThat(badRequest.getFieldViolations(0).getDescription()).isEqualTo("must be between 0 and 10");
    assertThat(GrpcErrors.of(DomainException.notFound("job", "j-1")).details()).isNull();
  }

  @Test
  void oversizedMessagesAreResourceExhausted() {
    assertThat(GrpcErrors.of(new MessageSizeOverflowException(10_000_000)).status())
        .isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
  }
}
