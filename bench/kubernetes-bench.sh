#!/usr/bin/env bash
# Scale-out of a Kubernetes pool from 0 to N pods and back on the fabric8 mock API server (CRUD mode), a test kubelet
# starting every pod's agent (the real agent code) in the benchmark's JVM. Counts the server's Kubernetes API calls.
#   bash bench/kubernetes-bench.sh [--pods 100]
# Prints the figures and writes bench/results/kubernetes-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
run_bench 2g KubernetesBench "$@"
