#!/usr/bin/env bash
# Tracker scale: one tracker, 1,000 simulated storage nodes heartbeating once a second.
#
#   bench/tracker-scale.sh        (from anywhere; about 1.5 minutes)
#
# 1. The tracker's CPU (utime + stime from /proc/<pid>/stat) over a 30 s window of heartbeats
#    alone, after 15 s of warm-up, as a share of one core; goal < 10 %.
# 2. Its heap after a full GC (jcmd GC.heap_info), with the 1,000 nodes known.
# 3. Placement answers per second: wrk -t2 -c64 on GET /cluster/assign (the node an upload should
#    go to) while the heartbeats go on; goal >= 20,000/s. Each answer is checked once with curl.
# 4. The heartbeats' answer times, whole run and per 10 s window (the wrk window shows apart).
# NODES and the durations can be changed through the environment.
set -euo pipefail
# shellcheck source=bench-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
NODES=${NODES:-1000}
WINDOW=${WINDOW:-30}
WARM=${WARM:-15}
bench_init
bench_build
bench_scratch "$BENCH_WORK"
port=$(bench_free_port 19330)
"$JAVA_HOME/bin/java" -Dio.netty.leakDetection.level=disabled ${WIMG_JAVA_OPTS:-} \
    -cp "$bench_cp" dev.wimg.bench.TrackerMain "$port" >"$bench_dir/tracker.log" 2>&1 &
tracker_pid=$!
bench_pids+=("$tracker_pid")
bench_wait_http "$tracker_pid" "http://127.0.0.1:$port/status" "$bench_dir/tracker.log"
seconds=$((WARM + WINDOW + 25))
"$JAVA_HOME/bin/java" -cp "$bench_cp" dev.wimg.bench.TrackerLoad "http://127.0.0.1:$port" \
    "$NODES" "$seconds" >"$bench_dir/load.log" 2>&1 &
load_pid=$!
bench_pids+=("$load_pid")
echo "tracker pid $tracker_pid on 127.0.0.1:$port; $NODES simulated nodes for $seconds s (load pid $load_pid)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
sleep "$WARM"
t0=$(cpu_ticks "$tracker_pid"); s0=$(date +%s.%N)
sleep "$WINDOW"
t1=$(cpu_ticks "$tracker_pid"); s1=$(date +%s.%N)
groups=$(curl -s "http://127.0.0.1:$port/status" | sed 's/.*"groups":\([0-9]*\).*/\1/')
echo "$t0 $t1 $s0 $s1 $hz" | awk -v nodes="$NODES" -v groups="$groups" '{
  cpu = ($2 - $1) / $5; wall = $4 - $3;
  printf "1. heartbeats: %d nodes known; tracker CPU %.2f s over %.1f s = %.1f %% of one core (goal < 10 %%)\n",
    groups, cpu, wall, 100 * cpu / wall }'
"$JAVA_HOME/bin/jcmd" "$tracker_pid" GC.run >/dev/null
"$JAVA_HOME/bin/jcmd" "$tracker_pid" GC.heap_info | awk '/garbage-first heap/ {
  for (i = 1; i <= NF; i++) if ($i == "used") { used = $(i + 1) }
  printf "2. tracker heap after a full GC: %s used\n", used }'
answer=$(curl -s "http://127.0.0.1:$port/cluster/assign")
case "$answer" in *'"url":"http://10.0.'*) ;; *) bench_die "unexpected /cluster/assign answer: $answer" ;; esac
wrk -t"$THREADS" -c"$CONNECTIONS" -d10s --timeout "$TIMEOUT" "http://127.0.0.1:$port/cluster/assign" \
  | awk '/Requests\/sec/ { printf "3. placements: %.0f answers/s from GET /cluster/assign, wrk -c'"$CONNECTIONS"', heartbeats going on (goal >= 20,000/s)\n", $2 }
         /Non-2xx|Socket errors/ { print "   " $0 }'
wait "$load_pid" && status=0 || status=$?
cat "$bench_dir/load.log"
[ "$status" = 0 ] || bench_die "some heartbeats failed (see above)"
