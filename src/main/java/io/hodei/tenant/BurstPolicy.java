package io.hodei.tenant;

/** burst_capacity.*: whether grants are allowed, the largest one, and the default length. */
public record BurstPolicy(boolean enabled, int maxOveragePercentage, int defaultDurationMinutes) {
  /** The longest grant: one week. */
  public static final int MAX_DURATION_MINUTES = 7 * 24 * 60;
}
