package io.hodei.scaling;

import io.vertx.core.json.JsonObject;

/**
 * One evaluation's outcome that changes a pool: which policy or trigger won ({@code source} policy|trigger,
 * {@code sourceId}, {@code reasonCode} its type or trigger metric, bounded for metric labels), the sizes, the
 * reason in words and the cooldown state it was taken under.
 */
record Decision(String direction, int before, int after, String source, String sourceId, String reasonCode,
                String reason, Inputs inputs, JsonObject cooldown) {}
