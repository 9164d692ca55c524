#!/usr/bin/env bash
# The chaos suite: faults injected from outside into the built server under submit load, and what held.
#   bash bench/chaos.sh [--rounds 5] [--jobs 10000] [--outage-s 30] [--round-jobs 1500] [--clients 8]
# Scenarios: PostgreSQL stopped for --outage-s under a --jobs load; then --rounds rounds each of kill -9 of the
# server JVM alone, of PostgreSQL alone, and of both, under load. Prints a table and writes
# bench/results/chaos-<date>.json. Everything runs on this machine (loopback only) and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench --jar 1g ChaosBench "$@"
