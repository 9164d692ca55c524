package io.hodei.http.grpc;

import io.hodei.common.DomainException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;

/** Maps a domain failure (HTTP-like status) to the gRPC status and status message a client sees. */
final class GrpcErrors {
  private GrpcErrors() {}

  static GrpcStatus status(int httpStatus) {
    return switch (httpStatus) {
      case 400, 422 -> GrpcStatus.INVALID_ARGUMENT;
      case 401 -> GrpcStatus.UNAUTHENTICATED;
      case 403 -> GrpcStatus.PERMISSION_DENIED;
      case 404 -> GrpcStatus.NOT_FOUND;
      case 409 -> GrpcStatus.ALREADY_EXISTS;
      case 412 -> GrpcStatus.FAILED_PRECONDITION;
      case 429 -> GrpcStatus.RESOURCE_EXHAUSTED;
      case 503 -> GrpcStatus.UNAVAILABLE;
      default -> GrpcStatus.INTERNAL;
    };
  }

  /**
   * The problem's detail, followed by each invalid field when the domain listed them. Unexpected failures already
   * carry a generic detail (see {@link io.hodei.common.Bus#toDomain}), so no internals reach the client.
   */
  static String message(DomainException problem) {
    StringBuilder message = new StringBuilder(problem.detail() == null ? problem.title() : problem.detail());
    JsonArray errors = problem.extensions().getJsonArray("errors");
    if (errors != null && errors.size() > 1) {
      message.append(':');
      for (Object error : errors) {
        if (error instanceof JsonObject e) {
          message.append(' ').append(e.getString("field")).append(": ").append(e.getString("message")).append(';');
        }
      }
      message.setLength(message.length() - 1);
    }
    return message.toString();
  }
}
