package io.hodei.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Domain events reach every local consumer as the published instance; on the wire they are their JSON. */
class EventCodecTest {
  @Test
  void localConsumersShareThePublishedEvent() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Events events = new Events(vertx, new SimpleMeterRegistry());
      new Events(vertx, new SimpleMeterRegistry()); // a second domain registers the codec again: no error
      CompletableFuture<JsonObject> first = new CompletableFuture<>();
      CompletableFuture<JsonObject> second = new CompletableFuture<>();
      String address = Events.address(Events.JOB_STARTED);
      List.of(vertx.eventBus().<JsonObject>consumer(address, m -> first.complete(m.body())).completion(),
          vertx.eventBus().<JsonObject>consumer(address, m -> second.complete(m.body())).completion())
          .forEach(f -> f.await());
      JsonObject event = new JsonObject().put("job_id", "j-1");
      events.publish(Events.JOB_STARTED, event);
      assertSame(event, first.get(10, TimeUnit.SECONDS));
      assertSame(event, second.get(10, TimeUnit.SECONDS));
      assertEquals(Events.JOB_STARTED, event.getString("type"));
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void wireFormIsTheJson() {
    EventCodec codec = new EventCodec();
    JsonObject event = new JsonObject().put("job_id", "j-1").put("nested", new JsonObject().put("a", 1));
    Buffer wire = Buffer.buffer().appendString("xx");
    codec.encodeToWire(wire, event);
    assertEquals(event, codec.decodeFromWire(2, wire));
  }
}
