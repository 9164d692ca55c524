package io.hodei.http;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * W3C trace context: reuses the caller's trace id from {@code traceparent}, else starts a new trace. Shared by REST
 * (headers) and gRPC (metadata).
 */
public final class TraceContext {
  public static final String TRACEPARENT = "traceparent";
  public static final String TRACE_ID_HEADER = "X-Trace-Id";
  private static final Pattern TRACEPARENT_FORMAT =
      Pattern.compile("([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
  private static final String INVALID_TRACE = "0".repeat(32);
  private static final SecureRandom RANDOM = new SecureRandom();

  private TraceContext() {}

  /** The trace id of a {@code traceparent} value when it is valid, else a new random one. */
  public static String traceId(String traceparent) {
    String header = traceparent;
    if (header != null) {
      Matcher m = TRACEPARENT_FORMAT.matcher(header.trim());
      if (m.matches() && !m.group(1).equals("ff") && !m.group(2).equals(INVALID_TRACE)) return m.group(2);
    }
    return newTraceId();
  }

  /** A new random trace id (32 hex digits). */
  public static String newTraceId() { return randomHex(16); }

  /** A new random span id (16 hex digits). */
  public static String newSpanId() { return randomHex(8); }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
