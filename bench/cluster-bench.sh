#!/usr/bin/env bash
# The cluster benchmark: REST submit throughput and latency with one server vs three cluster nodes on one
# PostgreSQL, and failover time over --kills kill -9 of the leader under a steady load (min / median / max).
#   bash bench/cluster-bench.sh [--seconds 20] [--clients 12] [--kills 5]
# Everything runs on this machine (loopback only, the built jar as child processes) and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench --jar 512m ClusterBench "$@"
