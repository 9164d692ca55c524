package io.hodei.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The scheduler benchmark reads job ids from submission replies without parsing them whole. */
class SchedulerBenchTest {
  private static JsonObject view(String id) {
    return new JsonObject().put("id", id).put("tenant_id", "t1").put("pool_id", "p0").put("worker_id", null)
        .put("payload", new JsonObject().put("id", 7)).put("idempotency_key", "k");
  }

  @Test
  void jobIdsAreReadFromSingleAndBatchReplies() {
    Set<String> ids = new HashSet<>();
    assertThat(SchedulerBench.jobIds(view("j-1").put("trace_id", "abc").encode(), ids)).isEqualTo(1);
    JsonObject batch = new JsonObject().put("items", new JsonArray().add(view("j-2")).add(view("j-3")))
        .put("trace_id", "abc");
    assertThat(SchedulerBench.jobIds(batch.encode(), ids)).isEqualTo(2);
    assertThat(ids).containsExactlyInAnyOrder("j-1", "j-2", "j-3");
  }
}
