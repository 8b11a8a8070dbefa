#!/usr/bin/env bash
# Upload of the 2,000 small JPEGs: WIMG POST /files with fsync always (data on the data disk) vs
# nginx WebDAV PUT into a folder on tmpfs (no fsync; ext4 file creation slows for minutes after mass
# deletes, which would make the baseline unstable). Same files, same wrk settings, runs alternate.
#
#   bench/upload-small.sh            (from anywhere; about 2 minutes)
#
# 1. builds the bench module; makes the corpus if it is missing (see bench-env.sh for the knobs)
# 2. starts WIMG (fsync always, scratch folder on the data disk) and nginx (dav_methods PUT,
#    create_full_put_path, body temp files and the upload folder both on $BENCH_SHM)
# 3. checks one upload each way reads back byte-identical
# 4. warms both ($WARMUP each), then $RUNS alternating runs of wrk -t$THREADS -c$CONNECTIONS
#    -d$DURATION with a Lua script cycling through the file bodies (read once at start); nginx gets
#    a new name per request, and its upload folder is emptied before every run
# 5. prints req/s and latency per run, the medians and the ratio WIMG/nginx of the median req/s,
#    and checks that WIMG holds at least as many needles as uploads it acknowledged
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
bench_init
bench_build
bench_corpus

bench_scratch "$BENCH_WORK"
work=$bench_dir
bench_scratch "$BENCH_SHM"
shm=$bench_dir
[ "$(df --output=fstype "$shm" | tail -n 1 | tr -d ' ')" = tmpfs ] || bench_die "$BENCH_SHM is not a tmpfs"
find "$bench_corpus/small" -name '*.jpg' | sort | head -n 2000 >"$work/files.txt"
count=$(wc -l <"$work/files.txt")
[ "$count" = 2000 ] || bench_die "need 2000 small JPEGs in $bench_corpus/small, found $count"
total_bytes=$(xargs cat <"$work/files.txt" | wc -c)
echo "files: $count JPEGs from $bench_corpus/small, mean $((total_bytes / count)) bytes"
echo "scratch: $work (WIMG data), $shm (nginx, tmpfs)"

wimg_port=$(bench_free_port 19333)
bench_start_wimg "$wimg_port" "$work/wimg-data" "${WIMG_FSYNC:-always}" "$work/wimg.log"
echo "WIMG: pid $wimg_pid on 127.0.0.1:$wimg_port, $(grep -m 1 '^WIMG listening' "$work/wimg.log")"

ngx=$shm/nginx
mkdir -p "$ngx/root/up" "$ngx/client_body_temp"
nginx_port=$(bench_free_port 19380)
{
  bench_nginx_main "$ngx"
  echo "http {"
  bench_nginx_http_common "$ngx"
  cat <<CONF
  server {
    listen 127.0.0.1:$nginx_port;
    root $ngx/root;
    client_max_body_size 64m;
    location /up/ {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
CONF
} >"$ngx/nginx.conf"
bench_start_nginx "$ngx" "$ngx/nginx.conf" "$nginx_port"
echo "nginx: pid $nginx_pid on 127.0.0.1:$nginx_port, PUT into $ngx/root/up"

# ---- one upload each way reads back byte-identical ----
sample=$(sed -n 1000p "$work/files.txt")
url=$(curl -sf -H 'Content-Type: image/jpeg' --data-binary "@$sample" "http://127.0.0.1:$wimg_port/files?name=check.jpg" \
    | grep -o '"url" *: *"[^"]*"' | sed -E 's/.*"([^"]*)"$/\1/; s#^https?://[^/]*##') \
    || bench_die "WIMG refused an upload"
curl -sf "http://127.0.0.1:$wimg_port$url" -o "$work/check" && cmp -s "$work/check" "$sample" \
    || bench_die "WIMG upload of $sample does not read back byte-identical"
curl -sf -X PUT -H 'Content-Type: image/jpeg' --data-binary "@$sample" "http://127.0.0.1:$nginx_port/up/check/check.jpg" -o /dev/null \
    || bench_die "nginx refused a PUT"
curl -sf "http://127.0.0.1:$nginx_port/up/check/check.jpg" -o "$work/check" && cmp -s "$work/check" "$sample" \
    || bench_die "nginx PUT of $sample does not read back byte-identical"
echo "one upload each way read back byte-identical"

# ---- measure ----
lua="$bench_root/bench/wrk/upload.lua"
empty_nginx() { find "$ngx/root/up" -mindepth 1 -delete; }
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, file bodies in rotation; warm-up $WARMUP each"
bench_warm "http://127.0.0.1:$wimg_port" "$lua" post "$work/files.txt"
bench_warm "http://127.0.0.1:$nginx_port" "$lua" put "$work/files.txt"
results=$work/results.txt
: >"$results"
for run in $(seq 1 "$RUNS"); do
  bench_wrk WIMG "http://127.0.0.1:$wimg_port" "$lua" post "$work/files.txt" | tee -a "$results" >&2
  empty_nginx
  bench_wrk nginx "http://127.0.0.1:$nginx_port" "$lua" put "$work/files.txt" | tee -a "$results" >&2
  echo "  (nginx stored $(find "$ngx/root/up" -type f | wc -l) files in run $run)" >&2
done
empty_nginx

acked=$(awk '$1 == "WIMG" { n += $6 } END { print n }' "$results")
needles=$(curl -sf "http://127.0.0.1:$wimg_port/status" | grep -o '"needles" *: *[0-9]*' | grep -o '[0-9]*$')
[ "$needles" -ge "$acked" ] || bench_die "WIMG holds $needles needles but acknowledged $acked uploads in the measured runs"
echo
echo "upload-small: POST/PUT of 2,000 small JPEGs (mean $((total_bytes / count)) B), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo "WIMG: fsync always, data on $(df --output=source,fstype "$work" | tail -n 1 | tr -s ' '); nginx: tmpfs, no fsync"
echo "WIMG holds $needles needles (>= $acked acknowledged in the measured runs, plus warm-up)"
bench_report "$results"
awk -v b="$total_bytes" -v n="$count" -v w="$(bench_median WIMG "$results")" -v g="$(bench_median nginx "$results")" \
    'BEGIN { printf "payload: WIMG %.1f MB/s, nginx %.1f MB/s (median req/s x mean file size)\n", w * b / n / 1048576, g * b / n / 1048576 }'
