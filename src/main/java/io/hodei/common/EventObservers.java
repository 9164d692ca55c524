package io.hodei.common;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * In-process observers of domain events, one registry per Vert.x instance: {@link Events#publish} hands each event
 * to the observers of its address on the publisher's own thread, right after publishing it on the event bus. For a
 * consumer that only counts (the metrics collector's tap), this costs no event-loop hop and no wake-up per event,
 * and, unlike an event-bus interceptor, nothing for the other messages. An observer must be short, must not block
 * and must not change the event (its consumers share it, see {@link EventCodec}); it is called concurrently from
 * every publishing thread.
 */
public final class EventObservers implements Shareable {
  private static final String MAP = "hodei.events.observers";
  private static final String KEY = "registry";

  /** Address to observers; replaced whole on every change (changes are rare, reads are per event). */
  private volatile Map<String, List<BiConsumer<String, JsonObject>>> byAddress = Map.of();

  private EventObservers() {}

  /** The registry of this Vert.x instance. */
  public static EventObservers of(Vertx vertx) {
    var map = vertx.sharedData().<String, EventObservers>getLocalMap(MAP);
    EventObservers existing = map.get(KEY);
    if (existing != null) return existing;
    EventObservers created = new EventObservers();
    EventObservers raced = map.putIfAbsent(KEY, created);
    return raced != null ? raced : created;
  }

  /** Observes the events published to {@code addresses} until {@link #remove}. */
  public synchronized void add(Set<String> addresses, BiConsumer<String, JsonObject> observer) {
    Map<String, List<BiConsumer<String, JsonObject>>> next = new HashMap<>(byAddress);
    for (String a : addresses) {
      List<BiConsumer<String, JsonObject>> list = new java.util.ArrayList<>(next.getOrDefault(a, List.of()));
      list.add(observer);
      next.put(a, List.copyOf(list));
    }
    byAddress = Map.copyOf(next);
  }

  public synchronized void remove(BiConsumer<String, JsonObject> observer) {
    Map<String, List<BiConsumer<String, JsonObject>>> next = new HashMap<>();
    byAddress.forEach((a, list) -> {
      List<BiConsumer<String, JsonObject>> kept = list.stream().filter(o -> o != observer).toList();
      if (!kept.isEmpty()) next.put(a, kept);
    });
    byAddress = Map.copyOf(next);
  }

  /** On the publisher's thread: hands the event to the observers of its address. */
  void published(String address, JsonObject event) {
    List<BiConsumer<String, JsonObject>> observers = byAddress.get(address);
    if (observers == null) return;
    for (BiConsumer<String, JsonObject> o : observers) o.accept(address, event);
  }
}
