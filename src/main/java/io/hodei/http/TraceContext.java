package io.hodei.http;

import java.util.concurrent.ThreadLocalRandom;
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
  private static final char[] HEX = "0123456789abcdef".toCharArray();

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

  /**
   * Random hex digits. Trace and span ids identify, they do not protect anything (W3C asks for randomness, not
   * secrecy), so the thread's own generator serves: a SecureRandom read /dev/urandom under a lock on every request.
   */
  private static String randomHex(int bytes) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] out = new char[bytes * 2];
    long any = 0;
    for (int i = 0; i < out.length; i += 16) {
      long bits = random.nextLong();
      any |= bits;
      for (int k = 0; k < 16; k++) out[i + k] = HEX[(int) (bits >>> (60 - 4 * k)) & 0xf];
    }
    // an all-zero id is invalid (W3C): never hand one out
    return any == 0 ? randomHex(bytes) : new String(out);
  }
}
