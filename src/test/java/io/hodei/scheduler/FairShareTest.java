package io.hodei.scheduler;

import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class FairShareTest {
  private static final long SECOND = 1_000_000_000L;

  /** Fair share over no usage, its memory advanced by hand on a clock that starts at 0. */
  private static FairShare memory(double halfLifeSeconds) {
    return new FairShare(halfLifeSeconds, new TenantUsage(), null, () -> 0L);
  }

  @Test
  void dominantShareIsTheLargerFraction() {
    assertThat(FairShare.dominant(2000, 1024, 8000, 8192)).isEqualTo(0.25);
    assertThat(FairShare.dominant(1000, 4096, 8000, 8192)).isEqualTo(0.5);
    assertThat(FairShare.dominant(1000, 1000, 0, 0)).isZero();
  }

  @Test
  void weightsDivideTheShare() {
    FairShare fair = memory(0);
    assertThat(fair.priority("a", 0.5, 1)).isGreaterThan(fair.priority("b", 0.5, 2));
    assertThat(fair.priority("b", 0.5, 2)).isEqualTo(0.25);
  }

  @Test
  void memoryRemembersRecentUseAndForgetsItWithTheHalfLife() {
    FairShare fair = memory(10);
    long t = 0;
    // "heavy" held half the cluster for 10 s (one half-life): it remembers half of that share.
    fair.advance(Map.of("heavy", 0.5), t);
    fair.advance(Map.of("heavy", 0.5), t += 10 * SECOND);
    assertThat(fair.remembered("heavy")).isCloseTo(0.25, within(1e-9));
    // Idle now: the two tenants have the same current share, but the one that used less goes first.
    assertThat(fair.priority("light", 0, 1)).isLessThan(fair.priority("heavy", 0, 1));
    // After another half-life of not using anything, half of the memory is gone.
    fair.advance(Map.of(), t += 10 * SECOND);
    assertThat(fair.remembered("heavy")).isCloseTo(0.125, within(1e-9));
  }

  @Test
  void noHalfLifeMeansNoMemory() {
    FairShare fair = memory(0);
    fair.advance(Map.of("heavy", 1.0), 0);
    fair.advance(Map.of("heavy", 1.0), 100 * SECOND);
    assertThat(fair.remembered("heavy")).isZero();
  }
}
