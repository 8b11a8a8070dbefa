#!/usr/bin/env bash
# Peer-assisted distribution (issue 12): eight storage nodes, each in its own network namespace
# whose sending side is capped with tc tbf; node 0 (zone origin) holds a large file, nodes 1-7
# (zone edge) get it. Three ways, in one run, on the same network:
#
#   peer      POST /tasks {fid, targets: [zone:edge]} on the tracker, then GET /tasks/<id> every
#             0.1 s until it is done: the nodes fetch pieces from each other, the source sends
#             each about once (a new file each run: a node pins a file once; one distribution by
#             ./wimg distribute --wait first, not counted, warms the eight JVMs up)
#   cli       ./wimg distribute FID --to zone:edge --wait on another new file: as peer, as a user of
#             the CLI sees it (its JVM start and 0.5 s polling included)
#   naive     the 7 edge nodes fetch the whole file from node 0 at once (curl, one per namespace)
#   single    one edge node fetches it from node 0 alone (curl): one transfer over one link
#
#   sudo bench/distribution.sh      (root; about 3 minutes a run and one for set-up; ~4 GiB free)
#
#   network  bridge wimg-d-br 10.78.0.1/24 (no multicast snooping); namespaces wimg-d0..7
#            (10.78.0.10..17), veth wimg-dN-br / wimg-dN-in, `tc qdisc add dev wimg-dN-in root tbf
#            rate MBIT burst 256kb latency 50ms` on each node's sending side
#   cluster  a tracker on 10.78.0.1; node N in group N+1, port 8080, cluster and write keys
# Prints per run the seconds until the last node has the file (wall time; for peer from the POST
# to the first poll that shows the task done), a timeline of the peer run (when the source had sent
# a copy, when each target was done), the copies node 0 sent (its tbf counter / file size), and the ratios
# peer/single and naive/single. Goals: peer source egress <= 1.3 copies, peer <= 1.5x single.
#
# Environment: RUNS (2), SIZE_MIB (256), MBIT (200), NAIVE=0 (leaves the naive way out: 80 s a
# run), BENCH_WORK, BENCH_SKIP_BUILD=1, BENCH_KEEP=1, WIMG_JAVA_OPTS.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"

[ "$(id -u)" = 0 ] || bench_die "needs root (network namespaces, a bridge, tc): run it as root, e.g. sudo $0"
for tool in ip tc curl sha256sum jq; do
  command -v "$tool" >/dev/null || bench_die "$tool is not installed"
done
# shellcheck source=/dev/null
. "$bench_root/.mvn/find-jdk.sh"
wimg_find_jdk || bench_die "no JDK 25 or newer found (set JAVA_HOME)"

RUNS=${RUNS:-2}
SIZE_MIB=${SIZE_MIB:-256}
MBIT=${MBIT:-200}
NODES=8
br=wimg-d-br
host=10.78.0.1
port=8080
ns() { echo "wimg-d$1"; }
addr() { echo "10.78.0.$((10 + $1))"; }

# --- network: made here, removed at exit --------------------------------------------------------
net_down() {
  local n pid
  for n in $(seq 0 $((NODES - 1))); do
    for pid in $(ip netns pids "$(ns "$n")" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$(ns "$n")" 2>/dev/null || true
  done
  ip link del "$br" 2>/dev/null || true
}
cleanup() {
  bench_cleanup
  net_down
}
ip netns list | grep -q '^wimg-d[0-9]' && bench_die "namespaces wimg-d* exist: another run, or a killed one's? ip netns del them"
ip link show "$br" >/dev/null 2>&1 && bench_die "link $br exists: another run, or a killed one's? ip link del $br"
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link add "$br" type bridge mcast_snooping 0
ip addr add "$host/24" dev "$br"
ip link set "$br" up
for n in $(seq 0 $((NODES - 1))); do
  s=$(ns "$n")
  ip netns add "$s"
  ip link add "$s-br" type veth peer name "$s-in" netns "$s"
  ip link set "$s-br" master "$br" up
  ip -n "$s" link set lo up
  ip -n "$s" addr add "$(addr "$n")/24" dev "$s-in"
  ip -n "$s" link set "$s-in" up
  ip netns exec "$s" tc qdisc add dev "$s-in" root tbf rate "${MBIT}mbit" burst 256kb latency 50ms
done
sent_bytes() { ip netns exec "$(ns "$1")" tc -s qdisc show dev "$(ns "$1")-in" | awk '/Sent/ { print $2; exit }'; }

# --- the CLI -------------------------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  "$bench_root/wimg" --version >/dev/null || bench_die "./wimg does not build or run"
fi
[ -f "$bench_root/cli/target/wimg.jar" ] || bench_die "cli/target/wimg.jar missing: run ./wimg --version once"
bench_scratch "$BENCH_WORK"
work=$bench_dir
mkdir -p "$work/cli"
cp -r "$bench_root/cli/target/wimg.jar" "$bench_root/cli/target/lib" "$work/cli/"
# shellcheck disable=SC2206
wimg=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xss512k -Xmx512m
      -Dio.netty.leakDetection.level=disabled ${WIMG_JAVA_OPTS:-} -jar "$work/cli/wimg.jar")
commit=$(git -C "$bench_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (git -C "$bench_root" status --porcelain -- pom.xml protocol storage imaging server client cli 2>/dev/null || true) | wc -l)

write_key=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
cluster_key=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
tracker=http://$host:9330
WIMG_CLUSTER_KEY=$cluster_key WIMG_WRITE_KEY=$write_key "${wimg[@]}" tracker --bind "$host" --port 9330 \
  --raft "$host:9331" --raft-data "$work/tracker" --down-after 5000 >"$work/tracker.log" 2>&1 &
bench_pids+=($!)
bench_wait_http "$!" "$tracker/cluster" "$work/tracker.log"

start_node() { # start_node N ZONE
  local n=$1 zone=$2
  ip netns exec "$(ns "$n")" env WIMG_WRITE_KEY="$write_key" WIMG_CLUSTER_KEY="$cluster_key" \
    "${wimg[@]}" storage --group $((n + 1)) --zone "$zone" --tracker "$tracker" --bind "$(addr "$n")" \
    --port "$port" --data "$work/node-$n" --reserve 0 >"$work/node-$n.log" 2>&1 &
  bench_pids+=($!)
}
serving() { curl -sf -m 2 "$tracker/cluster" | grep -o '"state":"serving"' | wc -l; }
await_serving() {
  for _ in $(seq 1 300); do
    [ "$(serving)" = "$1" ] && return 0
    sleep 0.2
  done
  tail -n 20 "$work"/*.log >&2
  bench_die "not $1 serving nodes after 60 s"
}

# --- data: every file on node 0 before the edge nodes start, so each chunk stays in group 1 -----
start_node 0 origin
await_serving 1
src=http://$(addr 0):$port
upload() { # upload NAME: a new random file on node 0; prints its fid
  head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/$1"
  curl -sf -m 300 -X POST -T "$work/$1" -H "Authorization: Bearer $write_key" "$src/files?name=$1" \
    | grep -o '"fid":"[^"]*"' | cut -d'"' -f4
}
warm_fid=$(upload warm.bin)
peer_fids=()
cli_fids=()
for run in $(seq 1 "$RUNS"); do
  peer_fids+=("$(upload "peer-$run.bin")")
  cli_fids+=("$(upload "cli-$run.bin")")
done
curl_fid=$(upload curl.bin)
want_curl=$(sha256sum "$work/curl.bin" | cut -d' ' -f1)
bytes=$((SIZE_MIB << 20))
for n in $(seq 1 $((NODES - 1))); do
  start_node "$n" edge
done
await_serving "$NODES"

results=$work/results.txt
: >"$results"
TIMEFORMAT='%R'
record() { # record MODE RUN SECONDS SENT_BEFORE
  local sent
  sent=$(( $(sent_bytes 0) - $4 ))
  awk -v m="$1" -v r="$2" -v t="$3" -v s="$sent" -v B="$bytes" \
    'BEGIN { printf "%s %s %.2f %.3f\n", m, r, t, s / B }' | tee -a "$results" >&2
}

# peer_distribution FID RUN SENT_BEFORE: creates the task with POST /tasks and polls GET /tasks/<id>
# every 0.1 s until it ends; prints the seconds until it showed done, and a timeline to stderr: when
# the source had sent one copy (its tbf counter), when each target showed done, and how busy the
# machine's cores were meanwhile (/proc/stat)
cpu_ticks() { awk '/^cpu / { print $2 + $3, $4, $7 + $8, $5 + $6 }' /proc/stat; } # user system irq idle
peer_distribution() {
  local fid=$1 run=$2 sent0=$3 start id status state us elapsed one_copy="" cpu0 cpu1 rest rx0
  local -A done_at=()
  # the loop below runs curl alone: jq, tc or date ten times a second would take CPU from the nodes
  local target_re='"node":"([^"]+)"[^}]*"state":"([a-z]+)"' state_re='"state":"([a-z]+)"'
  local rx=/sys/class/net/$(ns 0)-br/statistics/rx_bytes # what node 0 sent, read from the bridge side
  cpu0=$(cpu_ticks)
  rx0=$(<"$rx")
  start=${EPOCHREALTIME/./}
  id=$(curl -sf -m 30 -X POST -H "Authorization: Bearer $write_key" -H 'Content-Type: application/json' \
    -d "{\"fid\":\"$fid\",\"targets\":[\"zone:edge\"]}" "$tracker/tasks" | jq -r .id) \
    || bench_die "POST /tasks for $fid failed"
  while :; do
    status=$(curl -sf -m 5 "$tracker/tasks/$id") || bench_die "GET /tasks/$id failed"
    us=$(( ${EPOCHREALTIME/./} - start ))
    printf -v elapsed '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
    if [ -z "$one_copy" ] && [ $(( $(<"$rx") - rx0 )) -ge "$bytes" ]; then
      one_copy=$elapsed
    fi
    rest=$status
    while [[ $rest =~ $target_re ]]; do
      if [ "${BASH_REMATCH[2]}" = done ] && [ -z "${done_at[${BASH_REMATCH[1]}]:-}" ]; then
        done_at[${BASH_REMATCH[1]}]=$elapsed
      fi
      rest=${rest#*"${BASH_REMATCH[0]}"}
    done
    [[ $status =~ $state_re ]] && state=${BASH_REMATCH[1]} # the task's own state comes before its targets'
    [ "$state" = running ] || break
    sleep 0.1
  done
  cpu1=$(cpu_ticks)
  [ "$state" = done ] || { echo "$status" >&2; bench_die "task $id for $fid ended $state"; }
  echo "peer $run timeline: source sent one copy (with headers) at ${one_copy:-never} s; targets done at" \
    "$(printf '%s\n' "${done_at[@]}" | sort -n | tr '\n' ' ')s; cores busy" \
    "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { split(a, x, " "); split(b, y, " "); t = 0
      for (i = 1; i <= 4; i++) { d[i] = y[i] - x[i]; t += d[i] }
      printf "%.0f%% (user %.0f%%, system %.0f%%, softirq %.0f%%)", 100 * (t - d[4]) / t, 100 * d[1] / t,
        100 * d[2] / t, 100 * d[3] / t }')" | tee -a "$work/timeline.txt" >&2
  echo "$elapsed"
}

echo "warm-up: one distribution, not counted (eight fresh JVMs compile on two cores)" >&2
"${wimg[@]}" distribute "$warm_fid" --to zone:edge --wait --server "$tracker" --key "$write_key" \
  >"$work/warm.log" 2>&1 || { cat "$work/warm.log" >&2; bench_die "the warm-up distribution failed"; }
echo "mode run seconds source_copies" >&2
for run in $(seq 1 "$RUNS"); do
  fid=${peer_fids[$((run - 1))]}
  s0=$(sent_bytes 0)
  t=$(peer_distribution "$fid" "$run" "$s0")
  record peer "$run" "$t" "$s0"
  want=$(sha256sum "$work/peer-$run.bin" | cut -d' ' -f1)
  for n in $(seq 1 $((NODES - 1))); do
    got=$(curl -sf -m 120 "http://$(addr "$n"):$port/$fid" | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || bench_die "node $n's copy of $fid differs (SHA-256 $got, want $want)"
  done

  # as a user of the CLI sees it: its JVM start and its polling (every 0.5 s) included
  s0=$(sent_bytes 0)
  t=$( { time "${wimg[@]}" distribute "${cli_fids[$((run - 1))]}" --to zone:edge --wait --server "$tracker" \
        --key "$write_key" >"$work/cli-$run.log" 2>&1; } 2>&1 ) \
    || { cat "$work/cli-$run.log" >&2; bench_die "distribute failed"; }
  record cli "$run" "$t" "$s0"

  if [ "${NAIVE:-1}" = 1 ]; then
  s0=$(sent_bytes 0)
  t=$( { time {
    pids=()
    for n in $(seq 1 $((NODES - 1))); do
      ip netns exec "$(ns "$n")" curl -sf -m 600 -o "$work/naive-$n.bin" "$src/$curl_fid" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
  }; } 2>&1 )
  record naive "$run" "$t" "$s0"
  for n in $(seq 1 $((NODES - 1))); do
    [ "$(sha256sum "$work/naive-$n.bin" | cut -d' ' -f1)" = "$want_curl" ] || bench_die "naive copy $n differs"
    rm -f "$work/naive-$n.bin"
  done
  fi

  s0=$(sent_bytes 0)
  t=$( { time ip netns exec "$(ns 1)" curl -sf -m 600 -o "$work/single.bin" "$src/$curl_fid"; } 2>&1 )
  record single "$run" "$t" "$s0"
  [ "$(sha256sum "$work/single.bin" | cut -d' ' -f1)" = "$want_curl" ] || bench_die "single copy differs"
  rm -f "$work/single.bin"
done

median() { awk -v m="$1" -v c="$2" '$1 == m { print $c }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "distribution: $SIZE_MIB MiB from node 0 to $((NODES - 1)) nodes, every node sending at most $MBIT Mbit/s," \
  "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$([ "$dirty" = 0 ] || echo " + $dirty uncommitted source files")," \
  "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs"
printf '%-7s %4s %9s %14s\n' mode run seconds "source copies"
awk '{ printf "%-7s %4s %9.2f %14.2f\n", $1, $2, $3, $4 }' "$results"
pe=$(median peer 3); na=$(median naive 3); si=$(median single 3); pc=$(median peer 4); na=${na:-0}; cl=$(median cli 3)
awk -v p="$pe" -v n="$na" -v s="$si" -v c="$pc" -v l="$cl" -v B="$bytes" -v M="$MBIT" 'BEGIN {
  printf "median peer %.2f s, cli %.2f s, naive %.2f s, single %.2f s (a copy at the link rate: %.2f s)\n", p, l, n, s,
    B * 8 / (M * 1e6)
  printf "peer/single %.2fx (goal <= 1.5), cli/single %.2fx, naive/single %.2fx, peer source egress %.2f copies" \
    " (goal <= 1.3)\n", p / s, l / s, n / s, c
}'
echo "(seconds: wall time until the last node has the file; peer from POST /tasks to the first 0.1 s poll"
echo " that shows it done, cli ./wimg distribute --wait from its start to its end; source copies: node 0's"
echo " tbf counter over the file size, TCP/IP headers included)"
