#!/usr/bin/env bash
# The cluster benchmark: REST submit throughput and latency with one server vs three cluster nodes on one
# PostgreSQL, and failover time over --kills kill -9 of the leader under a steady load (min / median / max).
#   bash bench/cluster-bench.sh [--seconds 20] [--clients 12] [--kills 5]
# Everything runs on this machine (loopback only, the built jar as child processes) and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=target/bench-classpath.txt
mvn -B -q -DskipTests package
mvn -B -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile="$CP_FILE"
CP=$(cat "$CP_FILE")
exec java -Xmx512m -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "target/test-classes:target/classes:$CP" io.hodei.bench.ClusterBench "$@"
