package io.hodei.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Kubernetes-style quantities ({@code 500m}, {@code 2}, {@code 256Mi}, {@code 1Gi}) and durations ({@code 10m}, {@code 1h30m}). */
public final class Quantities {
  private static final Pattern QUANTITY = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)([a-zA-Z]*)$");
  private static final Pattern DURATION_PART = Pattern.compile("([0-9]+)(ms|s|m|h|d)");
  private static final long MIB = 1024L * 1024L;

  private Quantities() {}

  /** CPU in millicores: {@code 500m} = 500, {@code 2} = 2000, {@code 0.5} = 500. */
  public static long cpuMillis(String text) {
    Matcher m = match(text, "cpu");
    BigDecimal value = new BigDecimal(m.group(1));
    String unit = m.group(2);
    BigDecimal millis = switch (unit) {
      case "m" -> value;
      case "" -> value.multiply(BigDecimal.valueOf(1000));
      default -> throw CliException.usage("cpu '" + text + "': unknown unit '" + unit + "' (use 500m or 2)");
    };
    long result = millis.setScale(0, RoundingMode.CEILING).longValueExact();
    if (result <= 0) throw CliException.usage("cpu '" + text + "' must be more than 0");
    return result;
  }

  /** Memory in MiB (rounded up): {@code 256Mi} = 256, {@code 1Gi} = 1024, {@code 1G} = 954; a bare number is bytes. */
  public static long memoryMb(String text) {
    Matcher m = match(text, "memory");
    BigDecimal value = new BigDecimal(m.group(1));
    String unit = m.group(2);
    long factor = switch (unit) {
      case "" -> 1L;
      case "k" -> 1000L;
      case "Ki" -> 1024L;
      case "M" -> 1000L * 1000L;
      case "Mi" -> MIB;
      case "G" -> 1000L * 1000L * 1000L;
      case "Gi" -> 1024L * MIB;
      case "T" -> 1000L * 1000L * 1000L * 1000L;
      case "Ti" -> 1024L * 1024L * MIB;
      default -> throw CliException.usage("memory '" + text + "': unknown unit '" + unit + "' (use Ki, Mi, Gi, Ti, k, M, G, T)");
    };
    BigDecimal bytes = value.multiply(BigDecimal.valueOf(factor));
    if (bytes.compareTo(BigDecimal.valueOf(MIB)) < 0) {
      throw CliException.usage("memory '" + text + "' is less than 1Mi" + (unit.isEmpty() ? " (a bare number is bytes: did you mean " + text + "Mi?)" : ""));
    }
    return bytes.divide(BigDecimal.valueOf(MIB), 0, RoundingMode.CEILING).longValueExact();
  }

  /** Duration in seconds: {@code 90} or {@code 90s}, {@code 10m}, {@code 1h30m}, {@code 2d}. */
  public static long seconds(String text) {
    if (text == null || text.isBlank()) throw CliException.usage("empty duration");
    String t = text.trim();
    if (t.matches("[0-9]+")) return Long.parseLong(t);
    Matcher m = DURATION_PART.matcher(t);
    long millis = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) break;
      long n = Long.parseLong(m.group(1));
      millis += switch (m.group(2)) {
        case "ms" -> n;
        case "s" -> n * 1000L;
        case "m" -> n * 60_000L;
        case "h" -> n * 3_600_000L;
        default -> n * 86_400_000L;
      };
      end = m.end();
    }
    if (end != t.length() || end == 0) {
      throw CliException.usage("duration '" + text + "': use a number of seconds or units s, m, h, d (e.g. 10m, 1h30m)");
    }
    return (millis + 999) / 1000;
  }

  private static Matcher match(String text, String what) {
    Matcher m = QUANTITY.matcher(text == null ? "" : text.trim());
    if (!m.matches()) throw CliException.usage(what + " '" + text + "' is not a quantity (e.g. 500m, 2, 256Mi, 1Gi)");
    return m;
  }
}
