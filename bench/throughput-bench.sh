#!/usr/bin/env bash
# The throughput benchmark: what a no-op job costs end to end and in PostgreSQL, Hodei through REST
# against a graphile-worker-style queue (batched claims and completions) on the same PostgreSQL, in one run.
#   bash bench/throughput-bench.sh [--jobs 4000] [--clients 8] [--batch 100] [--workers 64] [--claim 500]
#                                  [--warmup-jobs 20000] [--stats-wait-ms 11000] [--runs single,batch,base-single,base-batch]
# Prints the results table and writes bench/results/throughput-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench 1g ThroughputBench "$@"
