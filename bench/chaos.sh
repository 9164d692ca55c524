#!/usr/bin/env bash
# The chaos suite: faults injected from outside into the built server under submit load, and what held.
#   bash bench/chaos.sh [--rounds 5] [--jobs 10000] [--outage-s 30] [--round-jobs 1500] [--clients 8]
# Scenarios: PostgreSQL stopped for --outage-s under a --jobs load; then --rounds rounds each of kill -9 of the
# server JVM alone, of PostgreSQL alone, and of both, under load. Prints a table and writes
# bench/results/chaos-<date>.json. Everything runs on this machine (loopback only) and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=target/bench-classpath.txt
mvn -B -q -DskipTests package
mvn -B -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile="$CP_FILE"
CP=$(cat "$CP_FILE")
exec java -Xmx1g -Dlogback.configurationFile=bench/logback-bench.xml \
  -cp "target/test-classes:target/classes:$CP" io.hodei.bench.ChaosBench "$@"
