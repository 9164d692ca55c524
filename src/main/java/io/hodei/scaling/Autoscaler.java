package io.hodei.scaling;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The decision of one pool, kept between evaluations: how long each trigger's condition has held, the
 * recommendations of the stabilisation window, and when the pool last scaled out and in. Every enabled policy and
 * every trigger that fired recommends a size; the highest wins (a pool shrinks only when all of them agree). A
 * scale-out applies at once unless the scale-out cooldown runs; a scale-in goes only down to the highest
 * recommendation of the stabilisation window, and not while the scale-in cooldown runs. Sizes stay within the
 * pool's [min_size, max_size]. Confined to the scaling verticle's event loop.
 */
final class Autoscaler {
  /** {@code step}: how the policy's step limits changed its wanted size, in words ("" when they did not). */
  private record Recommendation(int size, String source, String sourceId, String reasonCode, String reason,
                                String step) {}

  private record Sample(Instant at, int size) {}

  private final Map<String, Instant> conditionSince = new HashMap<>();
  private final Deque<Sample> window = new ArrayDeque<>();
  private Instant lastScaleOut;
  private Instant lastScaleIn;

  /** Restores the cooldown clocks after a restart (from the ledger). */
  void restore(Instant lastOut, Instant lastIn) {
    lastScaleOut = lastOut;
    lastScaleIn = lastIn;
  }

  /** The change to make now, or null. Call {@link #applied} once the pool took it. */
  Decision evaluate(Inputs in, List<Policy> policies, List<Trigger> triggers, Cooldown cooldown, Instant now) {
    Recommendation best = null;
    for (Policy policy : policies) {
      if (!policy.enabled()) continue;
      String[] why = new String[1];
      Integer size = policy.recommend(in, now, why);
      if (size == null) continue;
      int limited = limitStep(in.target(), size, policy.minStep(), policy.maxStep());
      best = higher(best, new Recommendation(limited, "policy", policy.id(), policy.type(),
          policy.type() + ": " + why[0], stepNote(in.target(), size, limited, policy)));
    }
    for (Trigger trigger : triggers) {
      Recommendation fired = fire(trigger, in, now);
      if (fired != null) best = higher(best, fired);
    }
    pruneWindow(now, cooldown.stabilisationS());
    if (best == null) return null;
    int clamped = Math.max(in.minSize(), Math.min(in.maxSize(), best.size()));
    window.addLast(new Sample(now, clamped));
    int current = in.target();
    if (clamped > current) {
      if (inCooldown(lastScaleOut, cooldown.scaleOutS(), now)) return null;
      String bound = clamped < best.size() ? " (capped at max_size " + in.maxSize() + ")" : "";
      return decision(Trigger.SCALE_OUT, in, clamped, best, best.reason() + ": " + current + " -> " + clamped
          + " workers" + best.step() + bound, cooldown, now, clamped);
    }
    if (clamped < current) {
      int stabilised = window.stream().mapToInt(Sample::size).max().orElse(clamped);
      if (stabilised >= current) return null;
      if (inCooldown(lastChange(), cooldown.scaleInS(), now)) return null;
      String held = stabilised > clamped ? "; held at " + stabilised + ", the highest recommendation of the last "
          + cooldown.stabilisationS() + " s (stabilisation)" : "";
      String bound = clamped > best.size() ? " (kept at min_size " + in.minSize() + ")" : "";
      return decision(Trigger.SCALE_IN, in, stabilised, best, best.reason() + ": " + current + " -> " + stabilised
          + " workers" + best.step() + bound + held, cooldown, now, clamped);
    }
    return null;
  }

  /** Starts the cooldown clocks of a change the pool accepted. */
  void applied(Decision decision, Instant at) {
    if (Trigger.SCALE_OUT.equals(decision.direction())) lastScaleOut = at;
    else lastScaleIn = at;
  }

  private Recommendation fire(Trigger trigger, Inputs in, Instant now) {
    if (!trigger.enabled()) {
      conditionSince.remove(trigger.id());
      return null;
    }
    double value = in.metric(trigger.metric());
    if (!trigger.holds(value)) {
      conditionSince.remove(trigger.id());
      return null;
    }
    Instant since = conditionSince.computeIfAbsent(trigger.id(), id -> now);
    long held = Duration.between(since, now).toSeconds();
    if (held < trigger.forDurationS()) return null;
    int size = Trigger.SCALE_OUT.equals(trigger.action()) ? in.target() + trigger.step() : in.target() - trigger.step();
    return new Recommendation(size, "trigger", trigger.id(), "trigger_" + trigger.metric(),
        "trigger " + trigger.describe() + " held (" + trigger.metric() + " = " + Inputs.round(value) + " for "
            + held + " s)", "");
  }

  /** Forgets the trigger clocks of triggers that no longer exist. */
  void retain(java.util.Collection<String> triggerIds) { conditionSince.keySet().retainAll(triggerIds); }

  /** Says when the policy's max_step cut its change short, or its min_step made it larger. */
  private static String stepNote(int current, int wanted, int limited, Policy policy) {
    if (limited == wanted) return "";
    int wantedStep = Math.abs(wanted - current);
    return wantedStep > policy.maxStep()
        ? " (capped by max_step " + policy.maxStep() + ": the policy wanted " + wanted + ")"
        : " (raised to min_step " + policy.minStep() + ": the policy wanted " + wanted + ")";
  }

  private static int limitStep(int current, int size, int minStep, int maxStep) {
    int delta = size - current;
    if (delta == 0) return size;
    int magnitude = Math.max(minStep, Math.min(maxStep, Math.abs(delta)));
    return current + Integer.signum(delta) * magnitude;
  }

  private static Recommendation higher(Recommendation a, Recommendation b) {
    return a == null || b.size() > a.size() ? b : a;
  }

  private void pruneWindow(Instant now, int seconds) {
    Instant oldest = now.minusSeconds(seconds);
    while (!window.isEmpty() && window.peekFirst().at().isBefore(oldest)) window.removeFirst();
  }

  private Instant lastChange() {
    if (lastScaleOut == null) return lastScaleIn;
    if (lastScaleIn == null) return lastScaleOut;
    return lastScaleOut.isAfter(lastScaleIn) ? lastScaleOut : lastScaleIn;
  }

  private static boolean inCooldown(Instant last, int seconds, Instant now) {
    return last != null && now.isBefore(last.plusSeconds(seconds));
  }

  private Decision decision(String direction, Inputs in, int after, Recommendation winner, String reason,
                            Cooldown cooldown, Instant now, int recommended) {
    JsonObject state = new JsonObject()
        .put("scale_out_cooldown_s", cooldown.scaleOutS())
        .put("scale_in_cooldown_s", cooldown.scaleInS())
        .put("scale_in_stabilisation_s", cooldown.stabilisationS())
        .put("last_scale_out_at", lastScaleOut == null ? null : lastScaleOut.toString())
        .put("last_scale_in_at", lastScaleIn == null ? null : lastScaleIn.toString())
        .put("recommended_size", recommended)
        .put("stabilised_size", after)
        .put("window_samples", window.size())
        .put("evaluated_at", now.toString());
    return new Decision(direction, in.target(), after, winner.source(), winner.sourceId(), winner.reasonCode(),
        reason, in, state);
  }
}
