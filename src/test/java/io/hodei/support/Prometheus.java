package io.hodei.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A strict parser of the Prometheus text format (0.0.4), enough to check what a scraper would see. */
public final class Prometheus {
  private static final Pattern SAMPLE = Pattern.compile(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)(\\s+-?\\d+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  public record Sample(String name, Map<String, String> labels, double value) {}

  private Prometheus() {}

  /** Parses every line; throws on a line that is not a comment, blank or a valid sample. */
  public static List<Sample> parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) throw new IllegalArgumentException("not a Prometheus sample line: " + line);
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null && !m.group(3).isEmpty()) {
        Matcher l = LABEL.matcher(m.group(3));
        int end = 0;
        while (l.find() && l.start() == end) {
          labels.put(l.group(1), l.group(2));
          end = l.end();
        }
        if (end != m.group(3).length()) throw new IllegalArgumentException("bad labels in: " + line);
      }
      samples.add(new Sample(m.group(1), labels, parseValue(m.group(4))));
    }
    return samples;
  }

  /** The families a scrape declares ({@code # TYPE name type} lines), with or without samples: name to type. */
  public static Map<String, String> families(String text) {
    Map<String, String> families = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (!line.startsWith("# TYPE ")) continue;
      String[] parts = line.split(" ");
      if (parts.length != 4) throw new IllegalArgumentException("not a TYPE line: " + line);
      families.put(parts[2], parts[3]);
    }
    return families;
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }
}
