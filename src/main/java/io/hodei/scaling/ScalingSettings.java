package io.hodei.scaling;

/**
 * What the scaling domain needs from configuration: the global switch ({@code resource_pools.auto_scaling_enabled})
 * and how often every dynamic pool is evaluated ({@code scaling.evaluation_interval_seconds}).
 */
public record ScalingSettings(boolean enabled, int evaluationIntervalSeconds) {}
