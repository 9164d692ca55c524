package io.hodei.scheduler;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BurstMeterTest {
  @Test
  void thePartAboveBaseIsSetByTheDimensionFurthestOverItsBase() {
    // within base: nothing
    assertThat(BurstMeter.aboveBase(2, 1000, 512, 2, 100_000, 100_000)).isZero();
    // 3 jobs on a base of 2: one job's worth of the usage
    assertThat(BurstMeter.aboveBase(3, 1500, 768, 2, 100_000, 100_000)).isCloseTo(1.0 / 3, within(1e-12));
    // CPU over its base: exactly cpu - base cpu (1500 - 1000 = 500 of 1500)
    assertThat(BurstMeter.aboveBase(3, 1500, 768, 10, 1000, 100_000) * 1500).isCloseTo(500, within(1e-9));
    // memory decides when it is further over
    assertThat(BurstMeter.aboveBase(2, 1000, 1000, 10, 900, 250)).isCloseTo(0.75, within(1e-12));
    assertThat(BurstMeter.aboveBase(0, 0, 0, 2, 1000, 1000)).isZero();
  }
}
