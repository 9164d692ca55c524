package io.hodei.metrics.exposition;

import io.hodei.metrics.exposition.Family.Kind;
import io.hodei.metrics.exposition.MeterParts.Part;
import io.hodei.metrics.exposition.PrometheusText.GaugeAlias;
import io.hodei.metrics.exposition.Series.Scrape;
import io.hodei.metrics.exposition.Series.Value;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.NamingConvention;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.hodei.metrics.exposition.TextFormat.prefix;

/**
 * The families of one meter list, sorted by name, and each meter's rendered parts (kept by meter instance, so that
 * a rebuild after the meters changed renders only the new meters and regroups the rest). It also finds the meter
 * lists the registry would not export as they are, and says why ({@link #fallbackReason}). Immutable once built.
 */
final class Layout {
  static final Layout NONE = new Layout(new Meter[0], new IdentityHashMap<>(), List.of(), List.of(), null);

  final Meter[] meters;
  final IdentityHashMap<Meter, MeterParts> parts;
  final List<Family> families;
  final List<Family> aliasFamilies;
  final String fallbackReason;

  Layout(Meter[] meters, IdentityHashMap<Meter, MeterParts> parts, List<Family> families,
         List<Family> aliasFamilies, String fallbackReason) {
    this.meters = meters;
    this.parts = parts;
    this.families = families;
    this.aliasFamilies = aliasFamilies;
    this.fallbackReason = fallbackReason;
  }

  /** Same meters (same instances) as when it was built: a meter's id, so its prefixes, never change. */
  boolean isFor(List<Meter> current) {
    if (current.size() != meters.length || this == NONE) return false;
    for (int i = 0; i < meters.length; i++) {
      if (current.get(i) != meters[i]) return false;
    }
    return true;
  }

  void write(Sink sink) {
    Scrape scrape = new Scrape();
    for (Family family : families) family.write(sink, scrape);
    writeAliases(sink);
  }

  void writeAliases(Sink sink) {
    Scrape scrape = new Scrape();
    for (Family family : aliasFamilies) family.write(sink, scrape);
  }

  static Layout of(List<Meter> meterList, NamingConvention convention, List<GaugeAlias> aliases, Layout previous) {
    Meter[] meters = meterList.toArray(new Meter[0]);
    IdentityHashMap<Meter, MeterParts> parts = new IdentityHashMap<>(meters.length * 2);
    // the registry's collectors: one per convention name, the first meter fixing type and label names
    Map<String, List<MeterParts>> collectors = new LinkedHashMap<>();
    for (Meter meter : meters) {
      MeterParts p = previous.parts.get(meter);
      if (p == null) p = MeterParts.of(meter, convention);
      parts.put(meter, p);
      collectors.computeIfAbsent(p.collector(), k -> new ArrayList<>()).add(p);
    }
    Map<String, Family> families = new TreeMap<>();
    String fallback = null;
    for (List<MeterParts> members : collectors.values()) {
      MeterParts first = members.get(0);
      Map<String, Family> own = new HashMap<>();
      for (MeterParts p : members) {
        if (p.type() != first.type() || !p.labelKeys().equals(first.labelKeys())) {
          fallback = "meters named " + first.collector() + " differ in type or label names";
        }
        for (Part part : p.parts()) {
          own.computeIfAbsent(part.family(), n -> new Family(n, part.kind(), part.help())).series.add(part.series());
        }
      }
      for (Family family : own.values()) {
        if (families.putIfAbsent(family.name, family) != null) fallback = "two metric families named " + family.name;
      }
    }
    return new Layout(meters, parts, List.copyOf(families.values()), aliasFamilies(meters, parts, aliases),
        fallback);
  }

  private static List<Family> aliasFamilies(Meter[] meters, IdentityHashMap<Meter, MeterParts> parts,
                                            List<GaugeAlias> aliases) {
    if (aliases.isEmpty()) return List.of();
    Map<String, GaugeAlias> byMeterName = new HashMap<>();
    for (GaugeAlias alias : aliases) byMeterName.put(alias.meterName(), alias);
    Map<String, Family> families = new LinkedHashMap<>();
    for (GaugeAlias alias : aliases) families.put(alias.meterName(), new Family(alias.name(), Kind.GAUGE, alias.help()));
    for (Meter meter : meters) {
      GaugeAlias alias = byMeterName.get(meter.getId().getName());
      if (alias != null && meter instanceof Gauge gauge) {
        families.get(alias.meterName()).series.add(new Value(prefix(alias.name(), "", parts.get(meter).labels()),
            gauge::value));
      }
    }
    return families.values().stream().filter(f -> !f.series.isEmpty()).toList();
  }
}
