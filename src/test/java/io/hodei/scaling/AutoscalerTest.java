package io.hodei.scaling;

import io.vertx.core.json.JsonArray;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The decision rules on explicit inputs and clocks (no server, no timing). */
class AutoscalerTest {
  private static final Instant T0 = Instant.parse("2026-01-05T10:00:00Z");

  private static Policy queuePolicy(int maxStep) {
    return new Policy("p", "pool", Policy.QUEUE_DEPTH_PER_WORKER, true, 1.0, 1, maxStep, new JsonArray(), T0, T0, 1);
  }

  private static Inputs inputs(int target, long busy, long idle, long queued) {
    return new Inputs(target, 1, 10, 0, idle, busy, 0, 0, queued, 0);
  }

  @Test
  void flappingQueueScalesOutOnceAndDoesNotFlap() {
    Autoscaler scaler = new Autoscaler();
    Cooldown cooldown = new Cooldown("pool", 0, 0, 10, T0, 1);
    int target = 2;
    List<Decision> decisions = new ArrayList<>();
    for (int s = 0; s < 60; s++) {
      boolean burst = s % 2 == 0;
      // every other second 2 jobs run and 4 queue up (demand 6); in between nothing waits and every worker is idle
      Inputs in = burst ? inputs(target, 2, target - 2, 4) : inputs(target, 0, target, 0);
      Decision d = scaler.evaluate(in, List.of(queuePolicy(10)), List.of(), cooldown, T0.plusSeconds(s));
      if (d != null) {
        decisions.add(d);
        scaler.applied(d, T0.plusSeconds(s));
        target = d.after();
      }
    }
    assertThat(decisions).hasSize(1);
    assertThat(decisions.get(0).direction()).isEqualTo("scale_out");
    assertThat(target).isEqualTo(6);
  }

  @Test
  void scaleInWaitsForTheStabilisationWindowAndTakesItsMaximum() {
    Autoscaler scaler = new Autoscaler();
    Cooldown cooldown = new Cooldown("pool", 0, 0, 5, T0, 1);
    // busy 5 -> recommendation 5 (no change), then the load drops to 1 busy
    assertThat(scaler.evaluate(inputs(5, 5, 0, 0), List.of(queuePolicy(10)), List.of(), cooldown, T0)).isNull();
    for (int s = 1; s <= 5; s++) {
      assertThat(scaler.evaluate(inputs(5, 1, 4, 0), List.of(queuePolicy(10)), List.of(), cooldown,
          T0.plusSeconds(s))).as("second %d", s).isNull();
    }
    Decision d = scaler.evaluate(inputs(5, 1, 4, 0), List.of(queuePolicy(10)), List.of(), cooldown,
        T0.plusSeconds(6));
    assertThat(d).isNotNull();
    assertThat(d.direction()).isEqualTo("scale_in");
    assertThat(d.after()).isEqualTo(1);
  }

  @Test
  void stepLimitsAndCooldownsBoundScaleOut() {
    Autoscaler scaler = new Autoscaler();
    Cooldown cooldown = new Cooldown("pool", 30, 60, 0, T0, 1);
    Decision first = scaler.evaluate(inputs(1, 1, 0, 9), List.of(queuePolicy(2)), List.of(), cooldown, T0);
    assertThat(first.after()).isEqualTo(3);
    scaler.applied(first, T0);
    assertThat(scaler.evaluate(inputs(3, 3, 0, 7), List.of(queuePolicy(2)), List.of(), cooldown, T0.plusSeconds(29)))
        .isNull();
    assertThat(scaler.evaluate(inputs(3, 3, 0, 7), List.of(queuePolicy(2)), List.of(), cooldown, T0.plusSeconds(30))
        .after()).isEqualTo(5);
  }

  @Test
  void triggerFiresOnlyAfterItsConditionHeldForItsDuration() {
    Autoscaler scaler = new Autoscaler();
    Cooldown cooldown = new Cooldown("pool", 0, 0, 0, T0, 1);
    Trigger trigger = new Trigger("t", "pool", Trigger.QUEUE_DEPTH, "gt", 0, 3, Trigger.SCALE_OUT, 2, true, T0, T0, 1);
    for (int s = 0; s < 3; s++) {
      assertThat(scaler.evaluate(inputs(1, 1, 0, 5), List.of(), List.of(trigger), cooldown, T0.plusSeconds(s)))
          .isNull();
    }
    Decision d = scaler.evaluate(inputs(1, 1, 0, 5), List.of(), List.of(trigger), cooldown, T0.plusSeconds(3));
    assertThat(d.after()).isEqualTo(3);
    assertThat(d.reasonCode()).isEqualTo("trigger_queue_depth");
    assertThat(d.reason()).contains("queue_depth gt 0.0 for 3 s");
  }

  @Test
  void scheduledWindowKeepsAFloor() {
    Autoscaler scaler = new Autoscaler();
    Cooldown cooldown = new Cooldown("pool", 0, 0, 0, T0, 1);
    JsonArray windows = new JsonArray().add(new io.vertx.core.json.JsonObject()
        .put("days", new JsonArray().add("mon")).put("start", "09:00").put("end", "24:00").put("min_size", 4));
    Policy scheduled = new Policy("s", "pool", Policy.SCHEDULED, true, null, 1, 10, windows, T0, T0, 1);
    Decision d = scaler.evaluate(inputs(1, 0, 1, 0), List.of(scheduled), List.of(), cooldown, T0);
    assertThat(d.after()).isEqualTo(4);
    assertThat(d.reason()).contains("scheduled window");
    assertThat(scaler.evaluate(inputs(1, 0, 1, 0), List.of(scheduled), List.of(), cooldown,
        T0.plusSeconds(86_400))).as("tuesday: no window").isNull();
  }
}
