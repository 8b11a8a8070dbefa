#!/usr/bin/env bash
# Heap per live needle and restart time of the storage engine at 10 million needles
# (dev.wimg.bench.IndexFootprint; its Javadoc says exactly what is measured).
#
#   bench/index-footprint.sh [--needles N] [other IndexFootprint options]   (about 1-2 minutes)
#
# The store goes to a scratch folder on the data disk ($BENCH_WORK, default bench/target/...),
# deleted at the end. JVM: -Xmx2g (the index needs ~40 MB; the rest is headroom), override with
# FOOTPRINT_JAVA_OPTS.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
bench_init
bench_build
bench_scratch "$BENCH_WORK"
work=$bench_dir
echo "file system of $work: $(df --output=source,fstype "$work" | tail -n 1 | tr -s " ")"
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" ${FOOTPRINT_JAVA_OPTS:--Xmx2g} -cp "$bench_cp" dev.wimg.bench.IndexFootprint \
    --data "$work/store" "$@"
echo "du of the data folder: $(du -sh "$work/store" | cut -f1)"
