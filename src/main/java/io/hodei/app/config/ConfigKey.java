package io.hodei.app.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One configuration key: its dotted path in {@code conf/hodei.yaml}, type, default, bounds, the environment
 * variables that override it, and which capability uses it (so docs/configuration.md can say which keys are accepted but not
 * acted on yet).
 */
public record ConfigKey(String path, Type type, Object defaultValue, long min, long max, List<String> allowed,
                        List<String> envNames, boolean envOnly, String usedBy, String description) {

  public enum Type { INT, BOOL, STRING, ENUM, LIST }

  /** The conventional environment name: HODEI_ + the path upper-cased, dots as underscores. */
  public String primaryEnv() {
    return "HODEI_" + path.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  static Builder key(String path, Type type) { return new Builder(path, type); }

  static final class Builder {
    private final String path;
    private final Type type;
    private Object defaultValue;
    private long min = Long.MIN_VALUE;
    private long max = Long.MAX_VALUE;
    private List<String> allowed = List.of();
    private final List<String> env = new ArrayList<>();
    private boolean envOnly;
    private String usedBy = "yes";
    private String description = "";

    private Builder(String path, Type type) {
      this.path = path;
      this.type = type;
    }

    Builder def(Object value) { this.defaultValue = value; return this; }
    Builder range(long min, long max) { this.min = min; this.max = max; return this; }
    Builder allowed(String... values) { this.allowed = List.of(values); return this; }
    Builder env(String... names) { this.env.addAll(List.of(names)); return this; }
    Builder envOnly() { this.envOnly = true; return this; }
    Builder usedBy(String issue) { this.usedBy = issue; return this; }
    Builder doc(String text) { this.description = text; return this; }

    ConfigKey build() {
      List<String> names = new ArrayList<>();
      names.add("HODEI_" + path.toUpperCase(Locale.ROOT).replace('.', '_'));
      for (String n : env) if (!names.contains(n)) names.add(n);
      return new ConfigKey(path, type, defaultValue, min, max, allowed, List.copyOf(names), envOnly, usedBy, description);
    }
  }
}
