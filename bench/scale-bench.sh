#!/usr/bin/env bash
# The scale benchmark: N concurrent long-running jobs on N simulated workers of one node, through REST; time to
# the workers idle, to every job accepted and running, API latency while they all run, /metrics scrape, memory.
#   bash bench/scale-bench.sh [--jobs 100000] (a list runs each size on a fresh server: --jobs 10000,100000)
#                             [--pool-size 10000] [--clients 8] [--batch 500] [--reads 6000] [--read-clients 8]
#                             [--scrapes 10] [--job-ms 600000]
# Prints the results table and writes bench/results/scale-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench "${BENCH_HEAP:-4g}" ScaleBench "$@"
