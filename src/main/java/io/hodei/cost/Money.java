package io.hodei.cost;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Exact decimal money: amounts are stored with {@value #STORED_SCALE} decimals and shown with {@value #SHOWN_SCALE}. */
final class Money {
  static final int STORED_SCALE = 10;
  static final int SHOWN_SCALE = 6;
  static final int SHARE_SCALE = 9;
  static final BigDecimal MS_PER_HOUR = BigDecimal.valueOf(3_600_000L);

  private Money() {}

  static BigDecimal orZero(BigDecimal value) { return value == null ? BigDecimal.ZERO : value; }

  /** The wire form of an amount: a decimal string with {@value #SHOWN_SCALE} decimals (never a binary float). */
  static String show(BigDecimal value) {
    return orZero(value).setScale(SHOWN_SCALE, RoundingMode.HALF_EVEN).toPlainString();
  }

  /** {@code part / whole} as a 4-decimal ratio string, "0.0000" when the whole is zero. */
  static String ratio(BigDecimal part, BigDecimal whole) {
    if (whole == null || whole.signum() == 0) return "0.0000";
    return orZero(part).divide(whole, 4, RoundingMode.HALF_EVEN).toPlainString();
  }
}
