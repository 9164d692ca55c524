#!/usr/bin/env bash
# The metrics benchmark, figures side by side in one run: /metrics scrape time with 10,000 series, the catalog's
# registry memory at 100 pools x 100 tenants, collection time of 100 simulated pools per cycle, and history storage
# bytes/day extrapolated for 100 pools at the default interval (pg_total_relation_size).
#   bash bench/metrics-bench.sh [--pools 100] [--tenants 100] [--series 10000] [--scrapes 50] [--cycles 30]
# Prints the results table and writes bench/results/metrics-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench 1g MetricsBench "$@"
