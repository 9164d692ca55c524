package io.hodei.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;

/**
 * The server span of one REST request or gRPC call, and the trace id the server reports for it (in bodies, headers,
 * logs and on the event bus). With tracing on the two are the same trace; with tracing off the span is a no-op and
 * the trace id is the caller's (from {@code traceparent}) or a new random one.
 */
public record ServerSpan(Span span, String traceId) {
  /** The {@code traceparent} to answer with: this span as the parent of whatever the caller does next. */
  public String traceparent(String randomSpanId) {
    SpanContext c = span.getSpanContext();
    if (!c.isValid()) return "00-" + traceId + "-" + randomSpanId + "-01";
    return "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex();
  }

  public static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
  public static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
  public static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  public static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
  public static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  public static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  public static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  public static final AttributeKey<String> GRPC_STATUS = AttributeKey.stringKey("rpc.grpc.status_code");
  public static final AttributeKey<String> TENANT_ID = AttributeKey.stringKey("hodei.tenant_id");

  /** Ends a REST request's span: named {@code METHOD /route/{template}} (bounded), 5xx marks it an error. */
  public void endHttp(String method, String route, String path, int status, String tenantId) {
    span.updateName(method + " " + route);
    span.setAttribute(HTTP_METHOD, method);
    span.setAttribute(HTTP_ROUTE, route);
    span.setAttribute(URL_PATH, path);
    span.setAttribute(HTTP_STATUS, (long) status);
    if (tenantId != null) span.setAttribute(TENANT_ID, tenantId);
    if (status >= 500) span.setStatus(StatusCode.ERROR);
    span.end();
  }

  /** Ends a gRPC call's span with its status name; anything but OK is an error. */
  public void endGrpc(String fullMethod, String status) {
    int slash = fullMethod.indexOf('/');
    span.setAttribute(RPC_SYSTEM, "grpc");
    if (slash > 0) {
      span.setAttribute(RPC_SERVICE, fullMethod.substring(0, slash));
      span.setAttribute(RPC_METHOD, fullMethod.substring(slash + 1));
    }
    span.setAttribute(GRPC_STATUS, status);
    if (!"OK".equals(status)) span.setStatus(StatusCode.ERROR, status);
    span.end();
  }
}
