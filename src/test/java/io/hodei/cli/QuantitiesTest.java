package io.hodei.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuantitiesTest {
  @Test
  void cpuLikeKubernetes() {
    assertThat(Quantities.cpuMillis("500m")).isEqualTo(500);
    assertThat(Quantities.cpuMillis("2")).isEqualTo(2000);
    assertThat(Quantities.cpuMillis("0.25")).isEqualTo(250);
    assertThatThrownBy(() -> Quantities.cpuMillis("2Gi")).hasMessageContaining("unknown unit");
    assertThatThrownBy(() -> Quantities.cpuMillis("0m")).hasMessageContaining("more than 0");
  }

  @Test
  void memoryInMebibytesRoundedUp() {
    assertThat(Quantities.memoryMb("256Mi")).isEqualTo(256);
    assertThat(Quantities.memoryMb("1Gi")).isEqualTo(1024);
    assertThat(Quantities.memoryMb("1.5Gi")).isEqualTo(1536);
    assertThat(Quantities.memoryMb("1G")).isEqualTo(954);
    assertThat(Quantities.memoryMb("2097152")).isEqualTo(2);
    assertThatThrownBy(() -> Quantities.memoryMb("256")).hasMessageContaining("did you mean 256Mi");
    assertThatThrownBy(() -> Quantities.memoryMb("lots")).hasMessageContaining("not a quantity");
  }

  @Test
  void durations() {
    assertThat(Quantities.seconds("90")).isEqualTo(90);
    assertThat(Quantities.seconds("10m")).isEqualTo(600);
    assertThat(Quantities.seconds("1h30m")).isEqualTo(5400);
    assertThat(Quantities.seconds("2d")).isEqualTo(172800);
    assertThat(Quantities.seconds("1500ms")).isEqualTo(2);
    assertThatThrownBy(() -> Quantities.seconds("10x")).hasMessageContaining("duration");
    assertThatThrownBy(() -> Quantities.seconds("m10")).hasMessageContaining("duration");
  }

  @Test
  void relativeTimes() {
    java.time.Instant now = java.time.Instant.parse("2026-12-06T06:00:00Z");
    assertThat(Output.ago("2026-12-06T05:57:00Z", now)).isEqualTo("3m ago");
    assertThat(Output.ago("2026-12-06T06:05:00Z", now)).isEqualTo("in 5m");
    assertThat(Output.ago("2026-12-06T04:30:00Z", now)).isEqualTo("1h30m ago");
    assertThat(Output.ago(null, now)).isEqualTo("-");
  }
}
