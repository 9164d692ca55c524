package io.hodei.http;

/** Keys of values the HTTP layer keeps on a routing context. */
final class HttpKeys {
  static final String TRACE_ID = "trace_id";
  static final String ENDPOINT = "endpoint";
  static final String CALLER = "caller";
  static final String UNMATCHED = "unmatched";

  private HttpKeys() {}
}
