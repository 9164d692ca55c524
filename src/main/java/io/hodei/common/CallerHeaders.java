package io.hodei.common;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@value BusHeaders#CALLER} header of event-bus requests, encoded and decoded once per distinct caller: a server
 * sees few callers (one per token, plus the system), each on many requests, and the JSON text of each was otherwise
 * written by the sender and parsed by the receiver of every request. The header stays the JSON of
 * {@link Caller#toJson()} (what other nodes of a cluster send and read).
 */
final class CallerHeaders {
  /** Past this many distinct callers, the maps start over (tokens are bounded, but nothing here should grow). */
  private static final int MAX = 4096;
  private static final ConcurrentHashMap<Caller, String> ENCODED = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, Caller> DECODED = new ConcurrentHashMap<>();

  private CallerHeaders() {}

  static String encode(Caller caller) {
    String header = ENCODED.get(caller);
    if (header != null) return header;
    header = caller.toJson().encode();
    if (ENCODED.size() >= MAX) ENCODED.clear();
    ENCODED.put(caller, header);
    return header;
  }

  /** The caller of a header; malformed JSON fails as {@link JsonObject}'s constructor does. */
  static Caller decode(String header) {
    Caller caller = DECODED.get(header);
    if (caller != null) return caller;
    caller = Caller.fromJson(new JsonObject(header));
    if (DECODED.size() >= MAX) DECODED.clear();
    DECODED.put(header, caller);
    return caller;
  }
}
