package io.hodei.metrics.exposition;

import java.nio.charset.StandardCharsets;

/**
 * The pieces of the text format 0.0.4 that are rendered once and reused: a series' name-and-labels prefix as UTF-8
 * bytes, escaped label values and HELP text, and doubles as the Prometheus client formats them. Everything here is
 * built when a meter is laid out, not per scrape (the per-scrape writing is {@link Sink}'s).
 */
final class TextFormat {
  private TextFormat() {}

  /** {@code name+suffix{labels} } ready to take a value. */
  static byte[] prefix(String name, String suffix, byte[] labels) {
    return concat(ascii(name + suffix), labels, labels.length == 0 ? new byte[0] : ascii("}"), ascii(" "));
  }

  /** {@code name+suffix{labels,extra="} } (or {@code {extra="} without labels), ready to take the extra value. */
  static byte[] openPrefix(String name, String suffix, byte[] labels, String extra) {
    return concat(ascii(name + suffix), labels.length == 0 ? ascii("{") : labels, labels.length == 0
        ? new byte[0] : ascii(","), ascii(extra + "=\""));
  }

  static void escapeLabelValue(StringBuilder s, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> s.append("\\\\");
        case '"' -> s.append("\\\"");
        case '\n' -> s.append("\\n");
        default -> s.append(c);
      }
    }
  }

  static String escapeHelp(String help) {
    return help.replace("\\", "\\\\").replace("\n", "\\n");
  }

  static byte[] ascii(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] p : parts) length += p.length;
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /** A double as the client's {@code TextFormatUtil.writeDouble} writes it. */
  static String format(double d) {
    if (d == Double.POSITIVE_INFINITY) return "+Inf";
    if (d == Double.NEGATIVE_INFINITY) return "-Inf";
    return Double.toString(d);
  }
}
