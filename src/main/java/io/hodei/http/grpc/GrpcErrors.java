package io.hodei.http.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import io.hodei.common.Bus;
import io.hodei.common.DomainException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.InvalidMessagePayloadException;
import io.vertx.grpc.common.MessageSizeOverflowException;
import java.util.Base64;

/** Maps a failed call (usually a domain problem with an HTTP-like status) to the gRPC status a client sees. */
final class GrpcErrors {
  /**
   * What the client is told: a status, a message free of internals, and the invalid fields when the domain named
   * them ({@code [{field, message}]}, empty otherwise).
   */
  record Failure(GrpcStatus status, String message, JsonArray fieldErrors) {
    Failure(GrpcStatus status, String message) { this(status, message, new JsonArray()); }

    /**
     * {@code grpc-status-details-bin}: a {@code google.rpc.Status} with the same code and message and, when fields
     * were named, one {@code google.rpc.BadRequest} detail; base64 as gRPC sends binary metadata. Null when there is
     * nothing more to say than the status.
     */
    String details() {
      if (fieldErrors.isEmpty()) return null;
      BadRequest.Builder badRequest = BadRequest.newBuilder();
      for (Object item : fieldErrors) {
        if (item instanceof JsonObject error) {
          badRequest.addFieldViolations(BadRequest.FieldViolation.newBuilder()
              .setField(String.valueOf(error.getString("field"))).setDescription(String.valueOf(
                  error.getString("message"))));
        }
      }
      com.google.rpc.Status status = com.google.rpc.Status.newBuilder().setCode(status().code).setMessage(message)
          .addDetails(Any.pack(badRequest.build())).build();
      return Base64.getEncoder().encodeToString(status.toByteArray());
    }
  }

  private GrpcErrors() {}

  /**
   * {@code grpc-message} as the gRPC spec encodes it: printable ASCII (0x20-0x7E) except '%' as is, every other
   * byte of the UTF-8 text as {@code %XX}.
   */
  static String percentEncode(String message) {
    byte[] bytes = message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xFF;
      if (c >= 0x20 && c <= 0x7E && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return out.toString();
  }

  static Failure of(Throwable failure) {
    if (failure instanceof InvalidMessagePayloadException) {
      return new Failure(GrpcStatus.INVALID_ARGUMENT, "the request message could not be decoded");
    }
    if (failure instanceof MessageSizeOverflowException) {
      return new Failure(GrpcStatus.RESOURCE_EXHAUSTED, "the request message is larger than the server accepts");
    }
    DomainException problem = Bus.toDomain(failure);
    JsonArray errors = problem.extensions().getJsonArray("errors");
    return new Failure(status(problem), message(problem), errors == null ? new JsonArray() : errors);
  }

  /**
   * A 409 that lists {@code allowed_actions} is an action the resource's state forbids (a lifecycle conflict), not
   * a duplicate: the client must change the state first, which gRPC calls FAILED_PRECONDITION.
   */
  static GrpcStatus status(DomainException problem) {
    if (problem.status() == 409 && problem.extensions().containsKey("allowed_actions")) {
      return GrpcStatus.FAILED_PRECONDITION;
    }
    return status(problem.status());
  }

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
