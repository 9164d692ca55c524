#!/usr/bin/env bash
# Scale-out of a Kubernetes pool from 0 to N pods and back on the fabric8 mock API server (CRUD mode), a test kubelet
# starting every pod's agent (the real agent code) in the benchmark's JVM. Counts the server's Kubernetes API calls.
#   bash bench/kubernetes-bench.sh [--pods 100]
# Prints the figures and writes bench/results/kubernetes-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=target/bench-classpath.txt
mvn -B -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile="$CP_FILE"
CP=$(cat "$CP_FILE")
exec java -Xmx2g -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "target/test-classes:target/classes:$CP" io.hodei.bench.KubernetesBench "$@"
