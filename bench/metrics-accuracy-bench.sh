#!/usr/bin/env bash
# The metrics accuracy and overhead benchmark, figures side by side in one run: pairs of rounds run a fresh server
# with metrics.enabled=false and =true back to back (order alternating) on the same simulated workload (jobs in
# batches through REST, every 10th failing); CPU seconds per 1,000 jobs from /proc (this JVM + the server's embedded
# PostgreSQL processes) and throughput, per side (median, range) and as paired costs with a 95% confidence interval;
# and every job/worker/queue series of /metrics against the job and worker tables after each metrics-on round.
# --quiet true (default): each round's PostgreSQL runs without autovacuum, after a CHECKPOINT of the set-up (both
# sides alike; --quiet false: PostgreSQL's defaults, as before). --jvms split (default): each side runs in a JVM of
# its own, warmed up on that side only, rounds alternating between the two; --jvms one: both sides in this JVM.
# --history false: the metrics side runs without its history writer (what the history costs).
#   bash bench/metrics-accuracy-bench.sh [--jobs 10000] [--tenants 10] [--pools 4] [--workers 10] [--fail-every 10]
#     [--duration-ms 20] [--batch 50] [--lanes 4] [--rounds 6] [--warmup 3] [--quiet true] [--jvms split] [--history true]
# Prints the results table and writes bench/results/metrics-accuracy-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench 1g MetricsAccuracyBench "$@"
