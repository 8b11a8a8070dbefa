#!/usr/bin/env bash
# Runs the JMH micro-benchmarks of the bench module (dev.wimg.bench.jmh) through
# org.openjdk.jmh.Main; every argument goes to JMH. Examples:
#   bench/jmh.sh -l                                   list the benchmarks
#   bench/jmh.sh NeedleReadBenchmark                  one class, all its parameters
#   bench/jmh.sh NeedleCodecBenchmark.decode -p dataBytes=20480 -prof gc
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
. "$bench_root/.mvn/find-jdk.sh"
wimg_find_jdk || bench_die "no JDK 25 or newer found (set JAVA_HOME)"
bench_build
exec "$JAVA_HOME/bin/java" -cp "$bench_cp" org.openjdk.jmh.Main "$@"
