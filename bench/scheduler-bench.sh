#!/usr/bin/env bash
# The scheduler benchmark: Hodei through REST (single and batch submits) against a plain
# FOR UPDATE SKIP LOCKED claim loop on the same PostgreSQL, in one run.
#   bash bench/scheduler-bench.sh [--jobs 10000] [--tenants 20] [--pools 4] [--workers 25] [--concurrency 64]
#                                 [--runs single,batch,baseline] [--warmup-jobs 20000] [--warmup-rounds 2] [--batch 100] [--batch-concurrency 8] [--min-ms 50] [--max-ms 200] [--inflight 256] [--db-pool 16] [--repeats 3]
# Prints the results table and writes bench/results/scheduler-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench 1g SchedulerBench "$@"
