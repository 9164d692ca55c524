package io.hodei.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TimestampsTest {
  @Test
  void utcIsTheInstantAtOffsetUtc() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {
      Instant t = Instant.ofEpochSecond(random.nextLong(-10_000_000_000L, 100_000_000_000L),
          random.nextInt(1_000_000_000));
      assertThat(Timestamps.utc(t)).isEqualTo(t.atOffset(ZoneOffset.UTC));
    }
    assertThat(Timestamps.utc(null)).isNull();
  }
}
