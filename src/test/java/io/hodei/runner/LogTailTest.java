package io.hodei.runner;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LogTailTest {
  private static final int CAPACITY = 200;

  @Test
  void shortOutputIsKeptWhole() {
    LogTail tail = new LogTail(CAPACITY);
    tail.append("hello\n");
    tail.append("world\n");

    assertThat(tail.render()).isEqualTo("hello\nworld\n");
  }

  @Test
  void longOutputKeepsTheNewestBytesBehindAMarker() {
    LogTail tail = new LogTail(CAPACITY);
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      String line = "line " + i + "\n";
      all.append(line);
      tail.append(line);
    }

    String log = tail.render();

    assertThat(log.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(CAPACITY);
    assertThat(log).startsWith("[... ").endsWith("line 99\n");
    String kept = log.substring(log.indexOf('\n') + 1);
    long dropped = all.length() - kept.length();
    assertThat(log).startsWith(LogTail.marker(dropped));
    assertThat(all.toString()).endsWith(kept);
  }

  @Test
  void oneHugeAppendIsCutToo() {
    LogTail tail = new LogTail(CAPACITY);
    byte[] big = "y".repeat(10_000).getBytes(StandardCharsets.UTF_8);
    tail.append(big, 0, big.length);

    assertThat(tail.render()).startsWith(LogTail.marker(10_000 - (CAPACITY - LogTail.MARKER_RESERVE)));
    assertThat(tail.totalBytes()).isEqualTo(10_000);
  }

  @Test
  void cutCharactersAndBadBytesNeverGrowTheLog() {
    LogTail tail = new LogTail(CAPACITY);
    tail.append("é".repeat(500));
    byte[] bad = {(byte) 0xFF, 0, (byte) 0xC3};
    tail.append(bad, 0, bad.length);

    String log = tail.render();

    assertThat(log.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(CAPACITY);
    assertThat(log.substring(log.indexOf('\n') + 1)).matches("é+\\?\\?\\?");
  }
}
