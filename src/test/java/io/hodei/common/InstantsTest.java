package io.hodei.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InstantsTest {
  @Test
  void formatsExactlyAsInstantToString() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 200_000; i++) {
      long seconds = random.nextLong(-100_000_000_000L, 300_000_000_000L);
      int nanos = switch (i % 4) {
        case 0 -> 0;
        case 1 -> random.nextInt(1000) * 1_000_000;
        case 2 -> random.nextInt(1_000_000) * 1_000;
        default -> random.nextInt(1_000_000_000);
      };
      Instant t = Instant.ofEpochSecond(seconds, nanos);
      assertThat(Instants.format(t)).isEqualTo(t.toString());
      assertThat(Instants.parse(t.toString())).isEqualTo(t);
    }
    for (Instant t : new Instant[] {Instant.EPOCH, Instant.ofEpochSecond(253_402_300_799L, 999_999_999),
        Instant.ofEpochSecond(253_402_300_800L), Instant.ofEpochSecond(951_782_400L), Instant.now()}) {
      assertThat(Instants.format(t)).isEqualTo(t.toString());
      assertThat(Instants.parse(t.toString())).isEqualTo(t);
    }
    assertThat(Instants.format(null)).isNull();
    assertThat(Instants.parse(null)).isNull();
  }

  @Test
  void readsWhatInstantParseReadsAndRefusesWhatItRefuses() {
    for (String text : new String[] {"2026-12-06T10:45:07.1Z", "2026-12-06T10:45:07.12345678Z",
        "2024-02-29T00:00:00Z", "2026-12-06T23:59:60Z", "2026-12-06T10:45:07+02:00", "1969-12-31T23:59:59.5Z"}) {
      assertThat(Instants.parse(text)).isEqualTo(Instant.parse(text));
    }
    for (String text : new String[] {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-06T24:00:00Z",
        "2026-12-06T10:45:07.Z", "2026-12-06T10:45:07.1234567890Z", "2026-12-06 10:45:07Z", "2026-1a-06T10:45:07Z",
        "2026-12-06T1-:45:07Z", "", "2026-12-06T10:45:07"}) {
      Instant expected;
      try {
        expected = Instant.parse(text);
      } catch (DateTimeParseException refused) {
        assertThatThrownBy(() -> Instants.parse(text)).as(text).isInstanceOf(DateTimeParseException.class);
        continue;
      }
      assertThat(Instants.parse(text)).as(text).isEqualTo(expected);
    }
  }
}
