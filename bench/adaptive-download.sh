#!/usr/bin/env bash
# Adaptive vs fixed sharing of a large download when one of the two members holding the file is
# slow (issue 11, benchmark 3). Each member runs in its own network namespace behind a veth pair
# whose sending side is capped with tc tbf (400 and 100 Mbit/s by default); the client and the
# tracker run in the root namespace, on a bridge joining the two.
#
#   sudo bench/adaptive-download.sh      (from anywhere; root; about 2.5 minutes; ~1 GiB free)
#
#   network  bridge wimg-br 10.77.0.1/24; namespaces wimg-a (10.77.0.11, fast) and wimg-b
#            (10.77.0.12, slow), each a veth pair wimg-X-br (bridge side) / wimg-X-in (inside),
#            `tc qdisc add dev wimg-X-in root tbf rate R burst 256kb latency 50ms`
#   cluster  a tracker on 10.77.0.1, one storage member of group 1 in each namespace (copies 2)
#   data     a SIZE_MIB file of random bytes, POSTed once to member a (which copies it to b)
#   runs     RUNS times, alternating, each followed by a SHA-256 check against the original:
#            adaptive  ./wimg download --server <tracker> -o OUT FID
#                      (probes both members, streams in proportion, shared queue, end game)
#            fixed     the same with --fixed-shares (each member an equal half of the chunks)
#            fast-only ./wimg download --server http://10.77.0.11:8080 (that member alone)
#            curl-fast curl -o OUT from member a (the fast link and the server, no client JVM)
# Prints seconds per run (wall time of the command, client JVM start included), its CPU seconds,
# the bytes each member sent during it (from its tbf counters), the medians, the ratio
# fixed/adaptive and the bounds the links set.
#
# Environment: RUNS (3), SIZE_MIB (256), FAST_MBIT (400), SLOW_MBIT (100), STREAMS (4, the CLI's
# default), BENCH_NET (10.77.0: the /24 used), BENCH_WORK, BENCH_SKIP_BUILD=1 (use
# cli/target/wimg.jar as it is), BENCH_KEEP=1 (keep the scratch folder), WIMG_JAVA_OPTS.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"

[ "$(id -u)" = 0 ] || bench_die "needs root (network namespaces, a bridge, tc): run it as root, e.g. sudo $0"
for tool in ip tc curl sha256sum; do
  command -v "$tool" >/dev/null || bench_die "$tool is not installed"
done
# shellcheck source=/dev/null
. "$bench_root/.mvn/find-jdk.sh"
wimg_find_jdk || bench_die "no JDK 25 or newer found (set JAVA_HOME)"

RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-256}
FAST_MBIT=${FAST_MBIT:-400}
SLOW_MBIT=${SLOW_MBIT:-100}
STREAMS=${STREAMS:-4}
net=${BENCH_NET:-10.77.0}
br=wimg-br
ns_a=wimg-a
ns_b=wimg-b
ip_host=$net.1
ip_a=$net.11
ip_b=$net.12
member_port=8080

# --- network: made here, removed at exit (only what this run made) -------------------------------
made_br=0
made_ns=()

net_down() {
  local ns pid
  for ns in "${made_ns[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do # only processes this run started live there
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || echo "bench: could not delete namespace $ns" >&2
  done
  made_ns=()
  if [ "$made_br" = 1 ]; then
    ip link del "$br" 2>/dev/null || echo "bench: could not delete bridge $br" >&2
    made_br=0
  fi
}

cleanup() {
  bench_cleanup # the JVMs first (by pid), then the namespaces they ran in
  net_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

leftovers=""
for ns in "$ns_a" "$ns_b"; do
  ip netns list | grep -qw "^$ns" && leftovers+=" namespace $ns;"
done
for link in "$br" "$ns_a-br" "$ns_b-br"; do
  ip link show "$link" >/dev/null 2>&1 && leftovers+=" link $link;"
done
ip -o addr show | grep -q " inet $net\." && leftovers+=" an address in $net.0/24;"
[ -z "$leftovers" ] || bench_die "already there:$leftovers another run, or a killed one's leftovers?" \
  "Remove them with: ip netns del $ns_a; ip netns del $ns_b; ip link del $br (or set BENCH_NET)"

net_up() {
  ip link add "$br" type bridge
  made_br=1
  ip addr add "$ip_host/24" dev "$br"
  ip link set "$br" up
  local ns addr rate
  for spec in "$ns_a $ip_a $FAST_MBIT" "$ns_b $ip_b $SLOW_MBIT"; do
    read -r ns addr rate <<<"$spec"
    ip netns add "$ns"
    made_ns+=("$ns")
    ip link add "$ns-br" type veth peer name "$ns-in" netns "$ns"
    ip link set "$ns-br" master "$br" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev "$ns-in"
    ip -n "$ns" link set "$ns-in" up
    # what the member sends (to the client and to its peer) leaves through this qdisc
    ip netns exec "$ns" tc qdisc add dev "$ns-in" root tbf rate "${rate}mbit" burst 256kb latency 50ms
  done
}
net_up

sent_bytes() { # sent_bytes NS: bytes the member's tbf has sent so far
  ip netns exec "$1" tc -s qdisc show dev "$1-in" | awk '/Sent/ { print $2; exit }'
}

# --- the CLI: built if stale, then a private copy so a rebuild during the run changes nothing ----
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  "$bench_root/wimg" --version >/dev/null || bench_die "./wimg does not build or run"
fi
[ -f "$bench_root/cli/target/wimg.jar" ] && [ -d "$bench_root/cli/target/lib" ] \
  || bench_die "cli/target/wimg.jar missing: run ./wimg --version once, or drop BENCH_SKIP_BUILD"
bench_scratch "$BENCH_WORK"
work=$bench_dir
mkdir -p "$work/cli"
cp -r "$bench_root/cli/target/wimg.jar" "$bench_root/cli/target/lib" "$work/cli/"
# the launcher's JVM flags (./wimg)
# shellcheck disable=SC2206
wimg=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xss512k
      -Dio.netty.leakDetection.level=disabled ${WIMG_JAVA_OPTS:-} -jar "$work/cli/wimg.jar")
"${wimg[@]}" --version >/dev/null || bench_die "the copied wimg.jar does not run"

commit=$(git -C "$bench_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (git -C "$bench_root" status --porcelain -- pom.xml protocol storage imaging server client cli 2>/dev/null || true) | wc -l)

# --- cluster ------------------------------------------------------------------------------------
write_key=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
cluster_key=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

tracker_port=$(bench_free_port 19340)
while [ "$(bench_free_port $((tracker_port + 1)))" != $((tracker_port + 1)) ]; do
  tracker_port=$(bench_free_port $((tracker_port + 2)))
done
tracker=http://$ip_host:$tracker_port
WIMG_CLUSTER_KEY=$cluster_key "${wimg[@]}" tracker --port "$tracker_port" --bind "$ip_host" \
  --raft "$ip_host:$((tracker_port + 1))" --raft-data "$work/tracker" --down-after 10000 \
  >"$work/tracker.log" 2>&1 &
bench_pids+=($!)
bench_wait_http "$!" "$tracker/cluster" "$work/tracker.log"

for spec in "$ns_a $ip_a a" "$ns_b $ip_b b"; do
  read -r ns addr name <<<"$spec"
  ip netns exec "$ns" env WIMG_WRITE_KEY="$write_key" WIMG_CLUSTER_KEY="$cluster_key" \
    "${wimg[@]}" storage --group 1 --copies 2 --tracker "$tracker" --bind "$addr" --port "$member_port" \
    --public-url "http://$addr:$member_port" --data "$work/$name" --reserve 0 \
    >"$work/$name.log" 2>&1 &
  bench_pids+=($!)
done

cluster_ready() {
  local view
  view=$(curl -sf -m 2 "$tracker/cluster") || return 1
  [ "$(grep -o '"state":"serving"' <<<"$view" | wc -l)" = 2 ] && grep -q '"writable":true' <<<"$view"
}
for _ in $(seq 1 300); do
  cluster_ready && break
  sleep 0.2
done
if ! cluster_ready; then
  tail -n 20 "$work/tracker.log" "$work/a.log" "$work/b.log" >&2
  bench_die "the group is not two serving members and writable after 60 s: $(curl -s -m 2 "$tracker/cluster")"
fi

# --- data ---------------------------------------------------------------------------------------
head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/big.bin"
bytes=$(stat -c %s "$work/big.bin")
want=$(sha256sum "$work/big.bin" | cut -d' ' -f1)
# to the fast member: its copy to b leaves through a's 400 Mbit/s link, not b's 100
curl -sf -m 300 -o "$work/up.json" -X POST -T "$work/big.bin" -H "Authorization: Bearer $write_key" \
  "http://$ip_a:$member_port/files?name=big.bin" || bench_die "upload to member a failed"
fid=$(grep -o '"fid":"[^"]*"' "$work/up.json" | cut -d'"' -f4)
[ -n "$fid" ] || bench_die "no fid in $(cat "$work/up.json")"
for addr in "$ip_a" "$ip_b"; do
  len=$(curl -sf -m 10 -I "http://$addr:$member_port/$fid" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }')
  [ "$len" = "$bytes" ] || bench_die "member $addr does not serve $fid whole (Content-Length '$len')"
done

results=$work/results.txt
: >"$results"
mkdir -p "$work/down"

# fetch MODE RUN COMMAND...: runs COMMAND (which writes the file to $out) timed, checks the
# SHA-256 of what it wrote, appends "MODE RUN seconds cpu_seconds MiB_from_a MiB_from_b"
fetch() {
  local mode=$1 run=$2
  shift 2
  local log=$work/down/$mode-$run.log a0 b0 a1 b1 real user sys
  a0=$(sent_bytes "$ns_a"); b0=$(sent_bytes "$ns_b")
  if ! { time "$@" >"$log" 2>&1; } 2>"$work/down/time"; then
    cat "$log" >&2
    bench_die "$mode download $run failed: $*"
  fi
  a1=$(sent_bytes "$ns_a"); b1=$(sent_bytes "$ns_b")
  read -r real user sys <"$work/down/time"
  local got
  got=$(sha256sum "$out" | cut -d' ' -f1)
  [ "$got" = "$want" ] || bench_die "$mode download $run differs from the original (SHA-256 $got, want $want)"
  rm -f "$out"
  [ "$run" = warm ] && return 0
  awk -v m="$mode" -v r="$run" -v t="$real" -v c="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
    -v a=$((a1 - a0)) -v b=$((b1 - b0)) \
    'BEGIN { printf "%s %s %.2f %.2f %.0f %.0f\n", m, r, t, c, a / 1048576, b / 1048576 }' | tee -a "$results" >&2
}
TIMEFORMAT='%R %U %S' # bash's time: wall, user and system seconds of the command
out=$work/down/big.bin
wimg_get() { # wimg_get MODE RUN ARGS...: ./wimg download ARGS FID into $out
  local mode=$1 run=$2
  shift 2
  fetch "$mode" "$run" "${wimg[@]}" download --streams "$STREAMS" -o "$out" "$@" "$fid"
}

jvm_ms=()
for _ in 1 2 3; do
  t0=$(date +%s%N); "${wimg[@]}" --version >/dev/null; t1=$(date +%s%N)
  jvm_ms+=($(((t1 - t0) / 1000000)))
done
jvm_start=$(printf '%s\n' "${jvm_ms[@]}" | sort -n | sed -n 2p)

echo "warm-up: one adaptive download, not counted" >&2
wimg_get adaptive warm --server "$tracker"
echo "mode run seconds cpu_seconds MiB_sent_by_a MiB_sent_by_b" >&2
for run in $(seq 1 "$RUNS"); do
  wimg_get adaptive "$run" --server "$tracker"
  wimg_get fixed "$run" --server "$tracker" --fixed-shares
  wimg_get fast-only "$run" --server "http://$ip_a:$member_port"
  fetch curl-fast "$run" curl -sf -m 120 -o "$out" "http://$ip_a:$member_port/$fid"
done

median() { awk -v m="$1" '$1 == m { print $3 }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "adaptive-download: $SIZE_MIB MiB from a group of two, a at $FAST_MBIT Mbit/s, b at $SLOW_MBIT Mbit/s," \
  "$STREAMS streams, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$([ "$dirty" = 0 ] || echo " + $dirty uncommitted source files")," \
  "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs"
printf '%-9s %4s %8s %8s %8s %7s %7s\n' mode run seconds MiB/s "CPU s" "a MiB" "b MiB"
awk -v B="$bytes" '{ printf "%-9s %4s %8.2f %8.1f %8.2f %7d %7d\n", $1, $2, $3, B / 1048576 / $3, $4, $5, $6 }' "$results"
echo "(seconds: wall time of the command, for ./wimg its JVM start included: ./wimg --version takes $jvm_start ms;"
echo " CPU s: user + system of the downloading process; a/b MiB: what each member's tbf sent during"
echo " the run, TCP/IP headers included (1448 payload bytes a 1514-byte frame: +4.6 %))"
echo
ad=$(median adaptive)
fx=$(median fixed)
fo=$(median fast-only)
cf=$(median curl-fast)
printf 'median adaptive   %6.2f s\nmedian fixed      %6.2f s\nmedian fast-only  %6.2f s\nmedian curl-fast  %6.2f s\n' \
  "$ad" "$fx" "$fo" "$cf"
awk -v a="$ad" -v f="$fx" -v o="$fo" -v B="$bytes" -v F="$FAST_MBIT" -v S="$SLOW_MBIT" 'BEGIN {
  printf "ratio fixed/adaptive %.2fx (adaptive faster by that factor), fast-only/adaptive %.2fx\n", f / a, o / a
  printf "bounds (payload at the tbf rate): both links %.2f s (ideal), a alone %.2f s, half on b %.2f s\n",
    B * 8 / ((F + S) * 1e6), B * 8 / (F * 1e6), B / 2 * 8 / (S * 1e6)
}'
