# Sourced by the bench scripts: builds the test classes and their class path, then runs one benchmark class.
#   run_bench [--jar] HEAP CLASS ARGS...
# --jar also builds target/hodei-pools.jar first (for benchmarks that start the server as child processes).
# BENCH_JAVA_OPTS adds JVM options, BENCH_CP adds class-path entries (e.g. a profiler).
run_bench() {
  local jar=false
  if [ "$1" = --jar ]; then jar=true; shift; fi
  local heap=$1 class=$2
  shift 2
  local cp_file=target/bench-classpath.txt
  if $jar; then mvn -B -q -DskipTests package; fi
  mvn -B -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile="$cp_file"
  local cp
  cp=$(cat "$cp_file")
  # Server logs at WARN (bench/logback-bench.xml): an INFO line per job state change would put console I/O into
  # the figures.
  exec java ${BENCH_JAVA_OPTS:-} "-Xmx$heap" -Dlogback.configurationFile=bench/logback-bench.xml \
    -cp "target/test-classes:target/classes:$cp${BENCH_CP:+:$BENCH_CP}" "io.hodei.bench.$class" "$@"
}
