package io.hodei.scaling;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A pool's cooldowns: after a scale-out no further scale-out for {@code scaleOutS}; after any change no scale-in for
 * {@code scaleInS}; a scale-in goes only as low as the highest recommendation of the last {@code stabilisationS}.
 */
record Cooldown(String poolId, int scaleOutS, int scaleInS, int stabilisationS, Instant updatedAt, long version) {
  static final int DEFAULT_SCALE_OUT_S = 30;
  static final int DEFAULT_SCALE_IN_S = 60;
  static final int DEFAULT_STABILISATION_S = 60;

  /** What a pool without a stored cooldown uses (version 0: never written). */
  static Cooldown defaults(String poolId) {
    return new Cooldown(poolId, DEFAULT_SCALE_OUT_S, DEFAULT_SCALE_IN_S, DEFAULT_STABILISATION_S, null, 0);
  }

  JsonObject toJson() {
    return new JsonObject().put("pool_id", poolId).put("scale_out_cooldown_s", scaleOutS)
        .put("scale_in_cooldown_s", scaleInS).put("scale_in_stabilisation_s", stabilisationS)
        .put("updated_at", updatedAt == null ? null : updatedAt.toString()).put("version", version);
  }
}
