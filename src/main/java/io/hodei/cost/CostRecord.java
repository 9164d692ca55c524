package io.hodei.cost;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * One ledger row: a worker's lifetime (kind {@value #WORKER}) or a job attempt's run (kind {@value #JOB}) inside one
 * UTC hour bucket, with the share of the worker it reserved and its exact amount. {@code burstFraction}: the part of
 * a job row's usage (and so of its amount) that was above its tenant's base quota, 0 to 1.
 */
record CostRecord(String kind, String sourceId, Instant bucketStart, String poolId, String workerId, String jobId,
                  Instant attemptStartedAt, String tenantId, String burstGrantId, Instant segmentStart,
                  Instant segmentEnd, BigDecimal share, long cpuM, long memoryMb, BigDecimal amount,
                  BigDecimal burstFraction) {
  static final String WORKER = "worker";
  static final String JOB = "job";
  static final Duration BUCKET = Duration.ofHours(1);

  /** What is being costed, before it is cut into hour buckets and priced. */
  record Usage(String kind, String sourceId, String poolId, String workerId, String jobId, Instant attemptStartedAt,
               String tenantId, String burstGrantId, Instant start, Instant end, BigDecimal share, long cpuM,
               long memoryMb, BigDecimal burstFraction) {}

  static Instant bucketOf(Instant t) { return t.truncatedTo(ChronoUnit.HOURS); }

  /**
   * Cuts {@code usage} into its hour buckets (at least one, so a zero-length run is still marked attributed) from the
   * bucket of {@code from} on, and prices each piece.
   */
  static List<CostRecord> split(Usage usage, Instant from, PriceBook prices) {
    List<CostRecord> records = new ArrayList<>();
    Instant bucket = bucketOf(usage.start().isAfter(from) ? usage.start() : from);
    do {
      Instant bucketEnd = bucket.plus(BUCKET);
      Instant start = usage.start().isAfter(bucket) ? usage.start() : bucket;
      Instant end = usage.end().isBefore(bucketEnd) ? usage.end() : bucketEnd;
      if (end.isBefore(start)) end = start;
      records.add(new CostRecord(usage.kind(), usage.sourceId(), bucket, usage.poolId(), usage.workerId(),
          usage.jobId(), usage.attemptStartedAt(), usage.tenantId(), usage.burstGrantId(), start, end, usage.share(),
          usage.cpuM(), usage.memoryMb(), prices.cost(usage.poolId(), start, end, usage.share()),
          usage.burstFraction()));
      bucket = bucketEnd;
    } while (bucket.isBefore(usage.end()));
    return records;
  }

  /**
   * The reserved share of a worker: max(cpu_m / worker_cpu_m, memory_mb / worker_memory_mb), at most 1, 9 decimals
   * (rounded up, so a job never costs less than it reserved). A worker of unknown shape counts as wholly reserved.
   */
  static BigDecimal share(long cpuM, long memoryMb, long workerCpuM, long workerMemoryMb) {
    if (workerCpuM <= 0 || workerMemoryMb <= 0) return BigDecimal.ONE;
    BigDecimal cpu = BigDecimal.valueOf(cpuM).divide(BigDecimal.valueOf(workerCpuM), Money.SHARE_SCALE,
        RoundingMode.CEILING);
    BigDecimal memory = BigDecimal.valueOf(memoryMb).divide(BigDecimal.valueOf(workerMemoryMb), Money.SHARE_SCALE,
        RoundingMode.CEILING);
    BigDecimal share = cpu.max(memory);
    return share.compareTo(BigDecimal.ONE) > 0 ? BigDecimal.ONE.setScale(Money.SHARE_SCALE) : share;
  }

  /**
   * The part of an attempt's run that was above its tenant's base quota: the scheduler's {@code burst_seconds} over
   * the run's length (0 to 1). Attempts ended before it was metered (null) count whole when they ran on a grant.
   */
  static BigDecimal burstFraction(Double burstSeconds, String burstGrantId, Instant start, Instant end) {
    if (burstSeconds == null) return burstGrantId == null ? BigDecimal.ZERO : BigDecimal.ONE;
    double runSeconds = Duration.between(start, end).toNanos() / 1e9;
    if (burstSeconds <= 0 || runSeconds <= 0) return BigDecimal.ZERO;
    return BigDecimal.valueOf(Math.min(1, burstSeconds / runSeconds)).setScale(Money.SHARE_SCALE, RoundingMode.HALF_UP);
  }

  /** The same row repriced (its segment and share are what was used). */
  CostRecord repriced(PriceBook prices) {
    return new CostRecord(kind, sourceId, bucketStart, poolId, workerId, jobId, attemptStartedAt, tenantId,
        burstGrantId, segmentStart, segmentEnd, share, cpuM, memoryMb,
        prices.cost(poolId, segmentStart, segmentEnd, share), burstFraction);
  }
}
