#!/usr/bin/env bash
# A 1 GiB file up and down: WIMG (stored as 8 MiB chunks plus a manifest as the body streams in,
# fsync always: durable when acknowledged) against nginx on the same disk (WebDAV PUT, then `sync`
# of the file, so both are durable; GET with sendfile).
#
#   bench/large-file.sh              (from anywhere; about 3 minutes; needs ~5 GiB free)
#
# Per run, alternating:
#   upload   WIMG   curl -X POST -T file       POST /files             (one stream)
#            WIMG   ./wimg upload FILE         (the CLI: the Java client, one stream)
#            nginx  curl -T file               PUT, then sync FILE
#   download WIMG   curl -o OUT GET /<fid>
#            WIMG   ./wimg download FID -o OUT (parallel ranges, every chunk's SHA-256 checked)
#            nginx  curl -o OUT GET /big.bin   (sendfile)
# Every download is written to a file on the same disk. "hot": the stored file was read once
# before, so it is in the page cache for both servers; "cold" (as root only): the page cache is
# dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before each download, so both read the disk.
# Prints MB/s per run, the medians and the ratios WIMG/nginx (goals >= 1.0x).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
bench_init
bench_build
command -v nginx >/dev/null || bench_die "nginx is needed: apt-get install nginx"

bench_scratch "$BENCH_WORK"
work=$bench_dir
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-1024}

head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/big.bin"
bytes=$(stat -c %s "$work/big.bin")

wimg_port=$(bench_free_port 19333)
bench_start_wimg "$wimg_port" "$work/wimg" always "$work/wimg.log"
wimg="http://127.0.0.1:$wimg_port"

ngx=$work/nginx
mkdir -p "$ngx/root"
nginx_port=$(bench_free_port 19380)
{
  bench_nginx_main "$ngx"
  echo "http {"
  bench_nginx_http_common "$ngx"
  cat <<CONF
  client_max_body_size 0;
  server {
    listen 127.0.0.1:$nginx_port;
    root $ngx/root;
    dav_methods PUT;
    create_full_put_path on;
  }
}
CONF
} >"$ngx/nginx.conf"
bench_start_nginx "$ngx" "$ngx/nginx.conf" "$nginx_port"
nginx_url="http://127.0.0.1:$nginx_port"

# ms_of COMMAND...: runs it, prints its wall time in ms
ms_of() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null || bench_die "failed: $*"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

rate() { # rate NAME MS: prints NAME MB/s MS and appends it to the results
  awk -v n="$1" -v b="$bytes" -v ms="$2" 'BEGIN { printf "%s %.1f %d\n", n, b / 1048576 / (ms / 1000), ms }' \
    | tee -a "$results" >&2
}
results=$work/results.txt
: >"$results"

wimg_cli() { # the repository's launcher (it builds cli/target/wimg.jar when a source changed)
  "$bench_root/wimg" "$@"
}
wimg_cli --version >/dev/null || bench_die "./wimg does not run"

cli_up() { # ./wimg upload, its "<fid> <url>" line kept for the delete after the run
  wimg_cli upload --server "$wimg" "$work/big.bin" >"$work/cli.out"
}

nginx_put() {
  curl -sf -T "$work/big.bin" "$nginx_url/big.bin" && sync "$ngx/root/big.bin"
}

drop_caches() { # the page cache dropped: the next read of any file comes from the disk
  sync
  echo 3 >/proc/sys/vm/drop_caches
}

fid=""
for run in $(seq 1 "$RUNS"); do
  # -T streams the file (curl reads a --data-binary @file whole into memory, and refuses 1 GiB)
  ms=$(ms_of curl -sf -o "$work/up.json" -X POST -T "$work/big.bin" "$wimg/files?name=big.bin")
  fid=$(grep -o '"fid":"[^"]*"' "$work/up.json" | cut -d'"' -f4)
  [ -n "$fid" ] || bench_die "no fid in $(cat "$work/up.json")"
  rate "$run up-curl-wimg" "$ms"
  ms=$(ms_of cli_up)
  rate "$run up-cli-wimg" "$ms"
  ms=$(ms_of nginx_put)
  rate "$run up-curl-nginx" "$ms"

  curl -sf -o /dev/null "$wimg/$fid"; curl -sf -o /dev/null "$nginx_url/big.bin" # hot for both
  rm -f "$work/down.bin"
  ms=$(ms_of curl -sf -o "$work/down.bin" "$wimg/$fid")
  rate "$run down-curl-wimg" "$ms"
  rm -f "$work/down.bin"
  ms=$(ms_of wimg_cli download --server "$wimg" -o "$work/down.bin" "$fid")
  rate "$run down-cli-wimg" "$ms"
  cmp "$work/down.bin" "$work/big.bin" || bench_die "the download differs from the file"
  rm -f "$work/down.bin"
  ms=$(ms_of curl -sf -o "$work/down.bin" "$nginx_url/big.bin")
  rate "$run down-curl-nginx" "$ms"
  if [ "$(id -u)" = 0 ]; then
    rm -f "$work/down.bin"; drop_caches
    ms=$(ms_of wimg_cli download --server "$wimg" -o "$work/down.bin" "$fid")
    rate "$run cold-cli-wimg" "$ms"
    rm -f "$work/down.bin"; drop_caches
    ms=$(ms_of curl -sf -o "$work/down.bin" "$nginx_url/big.bin")
    rate "$run cold-curl-nginx" "$ms"
  fi
  rm -f "$work/down.bin"
  curl -sf -X DELETE -o /dev/null "$wimg/$fid" || true
  cli_fid=$(cut -d' ' -f1 "$work/cli.out")
  [ -z "$cli_fid" ] || curl -sf -X DELETE -o /dev/null "$wimg/$cli_fid" || true
done

median() { grep " $1 " "$results" | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo
echo "large-file: $SIZE_MIB MiB, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $RUNS runs, MB/s (median)"
for side in up-curl-wimg up-cli-wimg up-curl-nginx down-curl-wimg down-cli-wimg down-curl-nginx \
    cold-cli-wimg cold-curl-nginx; do
  printf '%-16s %8s\n' "$side" "$(median "$side")"
done
awk -v a="$(median up-curl-wimg)" -v b="$(median up-cli-wimg)" -v n="$(median up-curl-nginx)" \
  'BEGIN { printf "upload, durable:  curl to WIMG / nginx PUT + sync %.2fx, wimg upload / nginx %.2fx (goal >= 1.0x)\n", a / n, b / n }'
awk -v a="$(median down-curl-wimg)" -v b="$(median down-cli-wimg)" -v n="$(median down-curl-nginx)" \
  'BEGIN { printf "download, hot:    curl from WIMG / nginx %.2fx, wimg download / nginx %.2fx (goal >= 1.0x)\n", a / n, b / n }'
if [ "$(id -u)" = 0 ]; then
  awk -v b="$(median cold-cli-wimg)" -v n="$(median cold-curl-nginx)" \
    'BEGIN { printf "download, cold:   wimg download / nginx %.2fx (goal >= 1.0x)\n", b / n }'
fi
