package io.hodei.http;

/** Keys of values the HTTP layer keeps on a routing context (also read by the console's routes). */
public final class HttpKeys {
  public static final String TRACE_ID = "trace_id";
  public static final String ENDPOINT = "endpoint";
  public static final String CALLER = "caller";
  public static final String UNMATCHED = "unmatched";

  private HttpKeys() {}
}
