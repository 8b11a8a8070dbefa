#!/usr/bin/env bash
# Upload of the 2,000 small JPEGs, replicated vs single: WIMG as one all-in-one server, against a
# tracker and a group of two storage nodes where every upload is acknowledged only once both hold
# it on disk (--copies 2). fsync always everywhere, data on the data disk. Same files, same wrk
# settings, runs alternate. Reports req/s and the CPU time per acknowledged upload summed over
# every WIMG process of each side (from /proc/PID/stat), and their ratio.
#
#   bench/replicated-upload.sh       (from anywhere; about 3 minutes)
#
# 1. builds the bench module; makes the corpus if it is missing (see bench-env.sh for the knobs)
# 2. starts the single server, then a tracker and two storage nodes of group 1
# 3. checks that an upload to one member reads back byte-identical from the other
# 4. warms both, then $RUNS alternating runs of wrk -t$THREADS -c$CONNECTIONS -d$DURATION POSTing
#    to the single server / to the first member directly (as the Java client does after one
#    lookup; the second member takes the copies)
# 5. prints req/s, CPU µs per upload per side, and the ratio cluster/single of both
set -euo pipefail
# Three JVMs on two cores take longer to compile the cluster's paths than one does the single
# server's: with bench-env's 15 s the first measured runs still pay for the JIT (C2's threads
# showed 0.5 s of system time per 10 s run on each member).
: "${WARMUP:=30s}"
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
bench_init
bench_build
bench_corpus

bench_scratch "$BENCH_WORK"
work=$bench_dir
find "$bench_corpus/small" -name '*.jpg' | sort | head -n 2000 >"$work/files.txt"
count=$(wc -l <"$work/files.txt")
[ "$count" = 2000 ] || bench_die "need 2000 small JPEGs in $bench_corpus/small, found $count"
total_bytes=$(xargs cat <"$work/files.txt" | wc -c)
ticks=$(getconf CLK_TCK)

# cpu_ticks PID...: user + system clock ticks of these processes so far
cpu_ticks() {
  local pid sum=0
  for pid in "$@"; do
    sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$sum"
}

single_port=$(bench_free_port 19333)
bench_start_wimg "$single_port" "$work/single" always "$work/single.log"
single_pids=("$wimg_pid")

tracker_port=$(bench_free_port 19330)
bench_start_tracker "$tracker_port" "$work/tracker" "$work/tracker.log"
member_ports=()
member_pids=()
for m in a b; do
  port=$(bench_free_port $((19401 + ${#member_ports[@]})))
  bench_start_wimg_node "$port" "$work/$m" "$work/$m.log" --group 1 --tracker "http://127.0.0.1:$tracker_port"
  member_ports+=("$port")
  member_pids+=("$wimg_pid")
done
cluster_pids=("$tracker_pid" "${member_pids[@]}")
bench_wait_serving "$tracker_port" 2
a="http://127.0.0.1:${member_ports[0]}"
b="http://127.0.0.1:${member_ports[1]}"
echo "single: pid ${single_pids[0]} on $single_port; cluster: tracker $tracker_pid on $tracker_port, members $a (pid ${member_pids[0]}), $b (pid ${member_pids[1]})"

sample=$(sed -n 1000p "$work/files.txt")
url=$(curl -sf -H 'Content-Type: image/jpeg' --data-binary "@$sample" "$a/files?name=check.jpg" \
    | grep -o '"url" *: *"[^"]*"' | sed -E 's/.*"([^"]*)"$/\1/; s#^https?://[^/]*##') \
    || bench_die "the first member refused an upload"
curl -sf "$b$url" -o "$work/check" && cmp -s "$work/check" "$sample" \
    || bench_die "an upload to the first member does not read back byte-identical from the second"
echo "an upload to the first member read back byte-identical from the second"

lua="$bench_root/bench/wrk/upload.lua"
bench_warm "http://127.0.0.1:$single_port" "$lua" post "$work/files.txt"
bench_warm "$a" "$lua" post "$work/files.txt"
results=$work/results.txt
: >"$results"
# measure SIDE URL PIDS...: one wrk run; appends "SIDE req/s ... requests cpu_us_per_upload"
measure() {
  local side=$1 url=$2
  shift 2
  local before after line
  before=$(cpu_ticks "$@")
  line=$(bench_wrk "$side" "$url" "$lua" post "$work/files.txt")
  after=$(cpu_ticks "$@")
  awk -v l="$line" -v t="$((after - before))" -v hz="$ticks" \
      'BEGIN { split(l, f, " "); printf "%s %.1f\n", l, t / hz * 1e6 / f[6] }'
}
for run in $(seq 1 "$RUNS"); do
  measure single "http://127.0.0.1:$single_port" "${single_pids[@]}" | tee -a "$results" >&2
  measure cluster "$a" "${cluster_pids[@]}" | tee -a "$results" >&2
done
for m in 0 1; do
  n=$(curl -sf "http://127.0.0.1:${member_ports[$m]}/status" | grep -o '"needles" *: *[0-9]*' | grep -o '[0-9]*$')
  echo "member $m holds $n needles"
done

echo
echo "replicated-upload: POST of 2,000 small JPEGs (mean $((total_bytes / count)) B), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
echo "single: one all-in-one server; cluster: tracker + 2 members of group 1, --copies 2 (both durable before the 201); fsync always; data on $(df --output=source,fstype "$work" | tail -n 1 | tr -s ' ')"
printf '%-4s %-8s %9s %9s %9s %12s\n' run side req/s p50_ms p99_ms cpu_us/upload
awk '{ run[$1]++; printf "%-4d %-8s %9d %9.2f %9.2f %12.1f\n", run[$1], $1, $2, $4, $5, $7 }' "$results"
median() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
sr=$(median single 2); cr=$(median cluster 2); sc=$(median single 7); cc=$(median cluster 7)
awk -v sr="$sr" -v cr="$cr" -v sc="$sc" -v cc="$cc" 'BEGIN {
  printf "median single %d req/s at %.1f us CPU per upload; cluster %d req/s at %.1f us CPU per upload (all 3 processes)\n", sr, sc, cr, cc
  printf "ratio cluster/single: req/s %.2fx, CPU per acknowledged upload %.2fx (goal <= 2.3x)\n", cr / sr, cc / sc }'
