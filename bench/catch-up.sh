#!/usr/bin/env bash
# Catch-up of a storage node that missed 1 GiB: a new member of a group pulls its peer's volumes
# (GET /replica/<volume>?revision=R&from=N, each record checked, appended with fsync), against curl fetching
# the same volume files from nginx (sendfile) into files on the same disk followed by sync. Both
# start with the volume files out of the page cache (posix_fadvise DONTNEED, no root needed).
#
#   bench/catch-up.sh                (from anywhere; about 2 minutes; needs ~3 GiB free)
#
# 1. builds the bench module
# 2. starts a tracker and member A of group 1, uploads 256 files of 4 MiB (1 GiB) to it
# 3. $RUNS alternating runs: start member B with an empty folder and time its catch-up (from its
#    log: the first pass, which brings in everything A held), check B's copy byte for byte; then
#    curl every .dat of A from nginx into a scratch folder + sync, and time that
# 4. prints MB/s per run, the medians and the ratio WIMG/curl (goal >= 0.8x)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
bench_init
bench_build
command -v python3 >/dev/null || bench_die "python3 is needed to drop files from the page cache"

bench_scratch "$BENCH_WORK"
work=$bench_dir
RUNS=${RUNS:-3}

drop_cache() { # drop_cache FILE...: evicts the files' clean pages
  python3 - "$@" <<'PY'
import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
PY
}

tracker_port=$(bench_free_port 19330)
bench_start_tracker "$tracker_port" "$work/tracker" "$work/tracker.log"
a_port=$(bench_free_port 19401)
bench_start_wimg_node "$a_port" "$work/a" "$work/a.log" --group 1 --tracker "http://127.0.0.1:$tracker_port"
a="http://127.0.0.1:$a_port"
bench_wait_serving "$tracker_port" 1

head -c $((4 << 20)) /dev/urandom >"$work/4m.bin"
echo "uploading 256 x 4 MiB to member A ($a)"
seq 1 256 | xargs -P 4 -I{} curl -sf -o /dev/null --data-binary "@$work/4m.bin" "$a/files?name={}.bin" \
    || bench_die "an upload to A failed"
mapfile -t volumes < <(find "$work/a" -maxdepth 1 -name '1-*.dat' | sort)
total=$(curl -sf "$a/replica" | grep -o '"end":[0-9]*' | grep -o '[0-9]*' | awk '{ s += $1 } END { print s }')
echo "A holds ${#volumes[@]} volume(s), $total bytes"

ngx=$work/nginx
mkdir -p "$ngx"
nginx_port=$(bench_free_port 19380)
{
  bench_nginx_main "$ngx"
  echo "http {"
  bench_nginx_http_common "$ngx"
  cat <<CONF
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/a;
  }
}
CONF
} >"$ngx/nginx.conf"
bench_start_nginx "$ngx" "$ngx/nginx.conf" "$nginx_port"

results=$work/results.txt
: >"$results"
for run in $(seq 1 "$RUNS"); do
  drop_cache "${volumes[@]}"
  b_port=$(bench_free_port 19402)
  rm -rf "$work/b"
  bench_start_wimg_node "$b_port" "$work/b" "$work/b-$run.log" --group 1 --tracker "http://127.0.0.1:$tracker_port"
  b_pid=$wimg_pid
  line=""
  for _ in $(seq 1 1200); do
    line=$(grep -m 1 'caught up with' "$work/b-$run.log" || true)
    [ -n "$line" ] && break
    sleep 0.1
  done
  [ -n "$line" ] || bench_die "B did not catch up; see $work/b-$run.log"
  ms=$(sed -E 's/.* in ([0-9]+) ms.*/\1/' <<<"$line")
  bytes=$(sed -E 's/.*: ([0-9]+) bytes copied.*/\1/' <<<"$line")
  for v in "${volumes[@]}"; do
    n=$(stat -c %s "$v")
    end=$(curl -sf "$a/replica" | grep -o "\"id\":$(basename "$v" .dat | cut -d- -f2),\"revision\":[0-9]*,\"end\":[0-9]*" | grep -o '[0-9]*$')
    cmp -n "$end" "$v" "$work/b/$(basename "$v")" || bench_die "B's copy of $(basename "$v") differs from A's"
  done
  kill -TERM "$b_pid"; wait "$b_pid" 2>/dev/null || true
  awk -v b="$bytes" -v ms="$ms" 'BEGIN { printf "WIMG %.1f %d %d\n", b / 1048576 / (ms / 1000), b, ms }' | tee -a "$results" >&2

  drop_cache "${volumes[@]}"
  rm -rf "$work/curl" && mkdir -p "$work/curl"
  start=$(date +%s%N)
  for v in "${volumes[@]}"; do
    curl -sf -o "$work/curl/$(basename "$v")" "http://127.0.0.1:$nginx_port/$(basename "$v")" || bench_die "curl failed"
  done
  sync "$work"/curl/*
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  bytes=$(cat "$work"/curl/* | wc -c)
  awk -v b="$bytes" -v ms="$ms" 'BEGIN { printf "curl %.1f %d %d\n", b / 1048576 / (ms / 1000), b, ms }' | tee -a "$results" >&2
done

echo
echo "catch-up: a new member copies 1 GiB from its peer, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; data on $(df --output=source,fstype "$work" | tail -n 1 | tr -s ' ')"
printf '%-4s %-5s %9s %12s %8s\n' run side MB/s bytes ms
awk '{ run[$1]++; printf "%-4d %-5s %9.1f %12d %8d\n", run[$1], $1, $2, $3, $4 }' "$results"
median() { awk -v s="$1" '$1 == s { print $2 }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
w=$(median WIMG); c=$(median curl)
awk -v w="$w" -v c="$c" 'BEGIN { printf "median WIMG catch-up %.1f MB/s, curl from nginx + sync %.1f MB/s: ratio %.2fx (goal >= 0.8x)\n", w, c, w / c }'
