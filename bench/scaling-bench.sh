#!/usr/bin/env bash
# The autoscaling benchmark: the same bursty workload on an autoscaled dynamic pool and on a fixed-size pool of the
# same peak size (the baseline), side by side in one run on simulated workers.
#   bash bench/scaling-bench.sh [--peak 8] [--bursts 3] [--burst-jobs 24] [--job-ms 2000] [--gap-s 20]
#                               [--provision-ms 2000]
# Prints the results table and writes bench/results/scaling-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench 1g ScalingBench "$@"
