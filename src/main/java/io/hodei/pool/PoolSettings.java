package io.hodei.pool;

import java.util.List;
import java.util.Map;

/** What the pool domain needs from configuration. */
public record PoolSettings(boolean enabled, String defaultKind, int maxWorkersPerPool, int healthIntervalSeconds,
                           int unhealthyThreshold, int reconcileIntervalSeconds,
                           List<Map<String, Object>> configuredPools) {}
