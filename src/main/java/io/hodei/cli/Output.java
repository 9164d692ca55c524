package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** Human tables (aligned, relative times) and the machine formats ({@code -o json|yaml}). */
public final class Output {
  /** {@code -o} values; TABLE is the default human view, WIDE adds columns. */
  public enum Format { TABLE, WIDE, JSON, YAML;
    public boolean machine() { return this == JSON || this == YAML; }
  }

  private Output() {}

  /** Prints {@code value} as JSON or YAML, without the per-request {@code trace_id}. */
  public static void machine(PrintWriter out, Format format, Object value) {
    Object plain = plain(value);
    if (plain instanceof Map<?, ?> m) m.remove("trace_id");
    if (format == Format.JSON) {
      Object encoded = plain instanceof Map<?, ?> || plain instanceof List<?> ? plain : value;
      out.println(encoded instanceof List<?> l ? new JsonArray(new ArrayList<>(l)).encodePrettily()
          : new JsonObject(castMap(encoded)).encodePrettily());
    } else {
      DumperOptions options = new DumperOptions();
      options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
      out.print(new Yaml(options).dump(plain));
    }
    out.flush();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object o) { return (Map<String, Object>) o; }

  /** Nested JsonObject/JsonArray turned into plain maps and lists (for YAML and for stable JSON). */
  public static Object plain(Object value) {
    if (value instanceof JsonObject o) return plain(o.getMap());
    if (value instanceof JsonArray a) return plain(a.getList());
    if (value instanceof Map<?, ?> m) {
      Map<String, Object> copy = new LinkedHashMap<>();
      m.forEach((k, v) -> copy.put(String.valueOf(k), plain(v)));
      return copy;
    }
    if (value instanceof List<?> l) {
      List<Object> copy = new ArrayList<>();
      for (Object v : l) copy.add(plain(v));
      return copy;
    }
    return value;
  }

  /** An aligned table: columns separated by two spaces, header in capitals. */
  public static final class Table {
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();
    private int[] minWidths = new int[0];

    /** Minimum column widths, so tables printed piece by piece (watch mode) stay aligned. */
    public Table minWidths(int... widths) {
      this.minWidths = widths.clone();
      return this;
    }

    public Table(String... headers) { this.headers = List.of(headers); }

    public Table(List<String> headers) { this.headers = List.copyOf(headers); }

    public Table row(Object... cells) {
      List<String> r = new ArrayList<>();
      for (Object c : cells) r.add(c == null ? "-" : c.toString());
      rows.add(r);
      return this;
    }

    public boolean isEmpty() { return rows.isEmpty(); }

    public void print(PrintWriter out) {
      for (String line : lines()) out.println(line);
      out.flush();
    }

    public List<String> lines() {
      int[] width = new int[headers.size()];
      for (int i = 0; i < headers.size(); i++) {
        width[i] = Math.max(headers.get(i).length(), i < minWidths.length ? minWidths[i] : 0);
      }
      for (List<String> r : rows) {
        for (int i = 0; i < r.size() && i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
      }
      List<String> lines = new ArrayList<>();
      lines.add(line(headers, width));
      for (List<String> r : rows) lines.add(line(r, width));
      return lines;
    }

    private static String line(List<String> cells, int[] width) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < cells.size() && i < width.length; i++) {
        if (i > 0) sb.append("  ");
        sb.append(cells.get(i));
        if (i < cells.size() - 1) sb.append(" ".repeat(width[i] - cells.get(i).length()));
      }
      return sb.toString();
    }
  }

  /** "3m ago" for a past instant, "in 5m" for a future one, "-" for none. */
  public static String ago(String iso, Instant now) {
    Instant at = instant(iso);
    if (at == null) return "-";
    Duration d = Duration.between(at, now);
    if (d.isNegative()) return "in " + span(d.negated());
    if (d.toSeconds() < 1) return "just now";
    return span(d) + " ago";
  }

  public static Instant instant(String iso) {
    if (iso == null || iso.isBlank()) return null;
    try {
      return Instant.parse(iso);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** A duration in the two largest units: "45s", "3m", "2h5m", "3d4h". */
  public static String span(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 60) return s + "s";
    if (s < 3600) return (s / 60) + "m" + (s % 60 != 0 && s < 600 ? (s % 60) + "s" : "");
    if (s < 86400) return (s / 3600) + "h" + ((s % 3600) / 60 != 0 ? ((s % 3600) / 60) + "m" : "");
    return (s / 86400) + "d" + ((s % 86400) / 3600 != 0 ? ((s % 86400) / 3600) + "h" : "");
  }

  public static String seconds(Number s) { return s == null ? "-" : span(Duration.ofSeconds(s.longValue())); }

  public static String cpu(Number milli) {
    if (milli == null) return "-";
    long m = milli.longValue();
    return m % 1000 == 0 ? String.valueOf(m / 1000) : m + "m";
  }

  public static String mem(Number mb) {
    if (mb == null) return "-";
    long m = mb.longValue();
    return m % 1024 == 0 ? (m / 1024) + "Gi" : m + "Mi";
  }

  public static String percent(Number ratio) {
    return ratio == null ? "-" : String.format(java.util.Locale.ROOT, "%.0f%%", ratio.doubleValue() * 100);
  }

  public static String str(Object o) {
    if (o == null) return "-";
    if (o instanceof JsonArray a) {
      List<String> parts = new ArrayList<>();
      for (Object v : a) parts.add(String.valueOf(v));
      return String.join(" ", parts);
    }
    if (o instanceof JsonObject j) return j.isEmpty() ? "-" : j.encode();
    return o.toString();
  }

  public static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, Math.max(0, max - 1)) + "…";
  }

  /** A YAML value as a Vert.x JSON value (maps and lists wrapped). */
  @SuppressWarnings("unchecked")
  public static Object plainJson(Object v) {
    if (v instanceof Map<?, ?> m) return new JsonObject((Map<String, Object>) plain(m));
    if (v instanceof List<?> l) return new JsonArray((List<Object>) plain(l));
    if (v instanceof java.util.Date d) return d.toInstant().toString();
    return v;
  }
}
