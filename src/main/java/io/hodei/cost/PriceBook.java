package io.hodei.cost;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Versioned pool prices in memory (a copy of table {@code pool_price}; the cost verticle is its only writer) and the
 * cost formula: the price in force at {@code t} is the version with the latest {@code effective_from <= t}; before
 * the first version the first version's price applies. Event-loop confined.
 */
final class PriceBook {
  private final Map<String, TreeMap<Instant, BigDecimal>> versions = new HashMap<>();
  /** The last price observed on each pool (source 'pool'): a differing pool price is a new version. */
  private final Map<String, BigDecimal> observed = new HashMap<>();

  void put(String poolId, Instant effectiveFrom, BigDecimal price) {
    versions.computeIfAbsent(poolId, p -> new TreeMap<>()).put(effectiveFrom, price);
  }

  void observed(String poolId, BigDecimal price) { observed.put(poolId, price); }

  BigDecimal lastObserved(String poolId) { return observed.get(poolId); }

  boolean knows(String poolId) { return versions.containsKey(poolId); }

  /** The price in force at {@code at}, or zero for a pool without any version. */
  BigDecimal priceAt(String poolId, Instant at) {
    NavigableMap<Instant, BigDecimal> pool = versions.get(poolId);
    if (pool == null || pool.isEmpty()) return BigDecimal.ZERO;
    Map.Entry<Instant, BigDecimal> floor = pool.floorEntry(at);
    return floor == null ? pool.firstEntry().getValue() : floor.getValue();
  }

  /**
   * Cost of {@code share} of one worker of {@code poolId} over {@code [start, end)}: share x sum over the price
   * versions in force of (milliseconds x price per hour / 3,600,000), rounded half-even to 10 decimals.
   */
  BigDecimal cost(String poolId, Instant start, Instant end, BigDecimal share) {
    NavigableMap<Instant, BigDecimal> pool = versions.get(poolId);
    if (pool == null || pool.isEmpty() || !end.isAfter(start)) return BigDecimal.ZERO.setScale(Money.STORED_SCALE);
    BigDecimal priceMs = BigDecimal.ZERO;
    Instant t = start;
    while (t.isBefore(end)) {
      Instant next = pool.higherKey(t);
      Instant segmentEnd = next == null || next.isAfter(end) ? end : next;
      long ms = segmentEnd.toEpochMilli() - t.toEpochMilli();
      priceMs = priceMs.add(priceAt(poolId, t).multiply(BigDecimal.valueOf(ms)));
      t = segmentEnd;
    }
    return priceMs.multiply(share).divide(Money.MS_PER_HOUR, Money.STORED_SCALE, RoundingMode.HALF_EVEN);
  }
}
