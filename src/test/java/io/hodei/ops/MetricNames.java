package io.hodei.ops;

import io.hodei.common.MetricCatalog;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Metric names a PromQL expression reads, and whether the metric contract allows them. */
final class MetricNames {
  /** Besides the catalog: the scrape health and the Vert.x, JVM and process meters of the registry. */
  static final Set<String> ALLOWED_EXACT = Set.of("up");
  static final List<String> ALLOWED_PREFIXES = List.of("vertx_", "jvm_", "process_");
  private static final List<String> SERIES_SUFFIXES = List.of("_bucket", "_sum", "_count");
  private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
      "and", "or", "unless", "bool", "offset", "inf", "nan", "atan2");

  private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
  private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
  private static final Pattern GROUPING = Pattern.compile(
      "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{[^}]*}|\\$\\w+");
  private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.])[a-zA-Z_:][a-zA-Z0-9_:]*");

  private MetricNames() {}

  /** The metric names in {@code expr}: identifiers that are not functions, keywords, label names or numbers. */
  static Set<String> in(String expr) {
    String s = STRING.matcher(expr).replaceAll(" ");
    s = MATCHERS.matcher(s).replaceAll(" ");
    s = GROUPING.matcher(s).replaceAll(" ");
    s = RANGE.matcher(s).replaceAll(" ");
    s = VARIABLE.matcher(s).replaceAll(" ");
    Set<String> names = new LinkedHashSet<>();
    Matcher m = IDENTIFIER.matcher(s);
    while (m.find()) {
      String id = m.group();
      String rest = s.substring(m.end()).stripLeading();
      if (rest.startsWith("(")) continue; // a function call
      if (KEYWORDS.contains(id.toLowerCase())) continue;
      names.add(id);
    }
    return names;
  }

  /** A catalog metric (a histogram's {@code _bucket/_sum/_count} series included) or an allowed platform meter. */
  static boolean allowed(String name) {
    if (ALLOWED_EXACT.contains(name) || ALLOWED_PREFIXES.stream().anyMatch(name::startsWith)) return true;
    Set<String> catalog = catalogNames();
    if (catalog.contains(name)) return true;
    return SERIES_SUFFIXES.stream().anyMatch(suffix -> name.endsWith(suffix)
        && catalog.contains(name.substring(0, name.length() - suffix.length())));
  }

  static Set<String> catalogNames() {
    Set<String> names = new LinkedHashSet<>();
    MetricCatalog.ALL.forEach(d -> names.add(d.name()));
    return names;
  }
}
