package io.hodei.metrics.push;

import io.hodei.metrics.GaugeValue;
import io.hodei.common.MetricCatalog;
import io.hodei.common.DomainException;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Samples pushed by external workers ({@code POST /api/v1/metrics}) in the POOL_OBSERVABILITY per-model shape:
 * only the names of {@link MetricCatalog#PUSHABLE}, with exactly the labels {@code pool} and {@code model}, values
 * finite and non-negative. A request is checked whole before anything changes: any bad sample rejects it (400 for a
 * malformed one, 422 for an unknown name, other labels, a bad value or more than {@link #MAX_SERIES} series).
 * The last value pushed for a series is what {@code /metrics} and the history show (one pusher per series; a counter
 * that goes down is a restarted worker, which Prometheus' rate() treats as a reset). Event-loop confined; the meters
 * read volatile holders.
 */
public final class PushedMetrics {
  static final int MAX_SAMPLES = 500;
  static final int MAX_SERIES = 1000;
  static final double MAX_VALUE = 1e15;
  static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/\\-]{0,63}");
  private static final Set<String> LABELS = Set.of(MetricCatalog.POOL, MetricCatalog.MODEL);
  private static final Map<String, MetricCatalog.Def> PUSHABLE = MetricCatalog.PUSHABLE.stream()
      .collect(Collectors.toMap(MetricCatalog.Def::name, Function.identity()));

  private final MeterRegistry registry;
  private final Map<String, GaugeValue> values = new HashMap<>();
  private final Set<String> series = new HashSet<>();
  private final List<Meter> meters = new ArrayList<>();

  public PushedMetrics(MeterRegistry registry) { this.registry = registry; }

  /** Validates and applies {@code {samples: [{name, labels: {pool, model}, value}]}}; returns what was accepted. */
  public JsonObject push(JsonObject body) {
    List<Sample> samples = parse(body);
    samples.forEach(s -> values.computeIfAbsent(s.key(), k -> register(s)).set(s.value()));
    return new JsonObject().put("accepted", samples.size()).put("series", series.size())
        .put("max_series", MAX_SERIES);
  }

  /** Series (pool, model pairs) pushed so far. */
  public int series() { return series.size(); }

  public void removeAll() {
    meters.forEach(registry::remove);
    meters.clear();
    values.clear();
    series.clear();
  }

  private record Sample(MetricCatalog.Def def, String pool, String model, double value) {
    String key() { return def.name() + '|' + pool + '|' + model; }

    String series() { return pool + '|' + model; }
  }

  private List<Sample> parse(JsonObject body) {
    JsonArray errors = new JsonArray();
    boolean[] malformed = {false};
    for (String field : body.fieldNames()) {
      if (!field.equals("samples")) error(errors, malformed, true, field, "unknown field; allowed: samples");
    }
    Object raw = body.getValue("samples");
    List<Sample> samples = new ArrayList<>();
    if (!(raw instanceof JsonArray array)) {
      error(errors, malformed, raw != null, "samples", raw == null ? "is required" : "must be an array");
    } else if (array.isEmpty() || array.size() > MAX_SAMPLES) {
      error(errors, malformed, false, "samples", "must have 1 to " + MAX_SAMPLES + " entries");
    } else {
      for (int i = 0; i < array.size(); i++) {
        Sample s = sample(array.getValue(i), "samples[" + i + "]", errors, malformed);
        if (s != null) samples.add(s);
      }
    }
    Set<String> added = new HashSet<>();
    for (Sample s : samples) if (!series.contains(s.series())) added.add(s.series());
    if (series.size() + added.size() > MAX_SERIES) {
      error(errors, malformed, false, "samples", "too many series: " + (series.size() + added.size())
          + " distinct (pool, model) pairs would exceed the limit of " + MAX_SERIES);
    }
    if (!errors.isEmpty()) throw DomainException.invalid(malformed[0] ? 400 : 422, errors);
    series.addAll(added);
    return samples;
  }

  private static Sample sample(Object raw, String at, JsonArray errors, boolean[] malformed) {
    if (!(raw instanceof JsonObject json)) {
      error(errors, malformed, true, at, "must be an object {name, labels, value}");
      return null;
    }
    int before = errors.size();
    for (String field : json.fieldNames()) {
      if (!Set.of("name", "labels", "value").contains(field)) {
        error(errors, malformed, true, at + "." + field, "unknown field; allowed: name, labels, value");
      }
    }
    MetricCatalog.Def def = null;
    if (!(json.getValue("name") instanceof String name)) {
      error(errors, malformed, json.getValue("name") != null, at + ".name", "is required (a string)");
    } else if ((def = PUSHABLE.get(name)) == null) {
      error(errors, malformed, false, at + ".name", "unknown metric; pushable: "
          + String.join(", ", MetricCatalog.PUSHABLE.stream().map(MetricCatalog.Def::name).toList()));
    }
    String pool = null;
    String model = null;
    if (!(json.getValue("labels") instanceof JsonObject labels)) {
      error(errors, malformed, json.getValue("labels") != null, at + ".labels", "is required: {pool, model}");
    } else if (!labels.fieldNames().equals(LABELS)) {
      error(errors, malformed, false, at + ".labels", "must have exactly the labels pool and model (got "
          + labels.fieldNames().stream().limit(10).toList() + ")");
    } else {
      pool = labelValue(labels, MetricCatalog.POOL, at, errors, malformed);
      model = labelValue(labels, MetricCatalog.MODEL, at, errors, malformed);
    }
    Object value = json.getValue("value");
    if (!(value instanceof Number number)) {
      error(errors, malformed, value != null, at + ".value", "is required (a number)");
    } else if (!Double.isFinite(number.doubleValue()) || number.doubleValue() < 0
        || number.doubleValue() > MAX_VALUE) {
      error(errors, malformed, false, at + ".value", "must be a finite number from 0 to " + MAX_VALUE);
    }
    if (errors.size() > before) return null;
    return new Sample(def, pool, model, ((Number) value).doubleValue());
  }

  private static String labelValue(JsonObject labels, String name, String at, JsonArray errors, boolean[] malformed) {
    Object v = labels.getValue(name);
    if (!(v instanceof String s)) {
      error(errors, malformed, true, at + ".labels." + name, "must be a string");
      return null;
    }
    if (!LABEL_VALUE.matcher(s).matches()) {
      error(errors, malformed, false, at + ".labels." + name, "must match " + LABEL_VALUE.pattern());
      return null;
    }
    return s;
  }

  private static void error(JsonArray errors, boolean[] malformed, boolean isMalformed, String field, String message) {
    if (isMalformed) malformed[0] = true;
    if (errors.size() < 50) errors.add(new JsonObject().put("field", field).put("message", message));
  }

  private GaugeValue register(Sample s) {
    GaugeValue holder = new GaugeValue();
    MetricCatalog.Def def = s.def();
    Meter meter = def.type() == MetricCatalog.Type.COUNTER
        ? def.functionCounter(holder, GaugeValue::get)
            .tag(MetricCatalog.POOL, s.pool()).tag(MetricCatalog.MODEL, s.model()).register(registry)
        : def.gauge(holder, GaugeValue::get)
            .tag(MetricCatalog.POOL, s.pool()).tag(MetricCatalog.MODEL, s.model()).strongReference(true)
            .register(registry);
    meters.add(meter);
    return holder;
  }
}
