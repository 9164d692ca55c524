package io.hodei.common;

/** Headers every event-bus request carries. Part of the event-bus contract. */
public final class BusHeaders {
  /** The JSON-encoded {@link Caller}. */
  public static final String CALLER = "caller";
  /** The W3C trace id of the request that caused this message. */
  public static final String TRACE_ID = "trace_id";

  private BusHeaders() {}
}
