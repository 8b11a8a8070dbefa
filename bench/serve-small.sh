#!/usr/bin/env bash
# GET of 2,000 distinct small JPEGs, hot: WIMG vs nginx serving the same files from a folder with
# sendfile. Same files, same wrk settings, runs alternate WIMG, nginx, WIMG, nginx, ...
#
#   bench/serve-small.sh            (from anywhere; about 2 minutes)
#
# 1. builds the bench module; makes the corpus if it is missing (see bench-env.sh for the knobs)
# 2. starts WIMG (data in a scratch folder on the data disk), uploads the 2,000 small JPEGs and
#    keeps their URLs; copies the same files into a folder that nginx serves
#    (worker_processes 2, sendfile, tcp_nopush, open_file_cache, access_log off, keep-alive)
# 3. checks that a sample of files reads back byte-identical from both
# 4. warms both ($WARMUP each), then $RUNS alternating runs of
#    wrk -t$THREADS -c$CONNECTIONS -d$DURATION with a Lua script picking a random file per request
# 5. prints req/s, MB/s (responses with headers), p50/p99 latency per run, the medians and the
#    ratio WIMG/nginx of the median req/s
#
# WIMG_CLUSTER=1 bench/serve-small.sh: WIMG is a tracker and a group of two storage nodes; the
# files are uploaded to the first member and read from the second (its copies), as a client does
# after one lookup; then $RUNS more runs against the tracker, which answers each GET with a 307 to
# a member (not followed): its redirects per second.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
bench_init
bench_build
bench_corpus

bench_scratch "$BENCH_WORK"
work=$bench_dir
mapfile -t files < <(find "$bench_corpus/small" -name '*.jpg' | sort)
[ "${#files[@]}" -ge 2000 ] || bench_die "need 2000 small JPEGs in $bench_corpus/small, found ${#files[@]}"
files=("${files[@]:0:2000}")
total_bytes=$(cat "${files[@]}" | wc -c)
echo "files: ${#files[@]} JPEGs from $bench_corpus/small, $((total_bytes / 1024)) KiB in all"
echo "scratch: $work"

# ---- WIMG: start, upload, keep the URLs in corpus order ----
if [ "${WIMG_CLUSTER:-0}" = 1 ]; then
  tracker_port=$(bench_free_port 19330)
  bench_start_tracker "$tracker_port" "$work/tracker" "$work/tracker.log"
  upload_port=$(bench_free_port 19401)
  bench_start_wimg_node "$upload_port" "$work/member-a" "$work/member-a.log" --group 1 --tracker "http://127.0.0.1:$tracker_port"
  wimg_port=$(bench_free_port 19402)
  bench_start_wimg_node "$wimg_port" "$work/member-b" "$work/member-b.log" --group 1 --tracker "http://127.0.0.1:$tracker_port"
  bench_wait_serving "$tracker_port" 2
  echo "WIMG: tracker on $tracker_port; uploads to the member on $upload_port, reads from its peer on $wimg_port"
else
  wimg_port=$(bench_free_port 19333)
  bench_start_wimg "$wimg_port" "$work/wimg-data" always "$work/wimg.log"
  upload_port=$wimg_port
  echo "WIMG: pid $wimg_pid on 127.0.0.1:$wimg_port, $(grep -m 1 '^WIMG listening' "$work/wimg.log")"
fi
curl_cfg="$work/upload.curl"
for f in "${files[@]}"; do
  [ "$f" = "${files[0]}" ] || echo "next"
  printf 'url = "http://127.0.0.1:%s/files?name=%s"\ndata-binary = "@%s"\nheader = "Content-Type: image/jpeg"\nwrite-out = "\\n"\n' \
      "$upload_port" "$(basename "$f")" "$f"
done >"$curl_cfg"
curl -s -K "$curl_cfg" >"$work/upload.json" || bench_die "upload to WIMG failed"
grep -o '"url" *: *"[^"]*"' "$work/upload.json" | sed -E 's/.*"([^"]*)"$/\1/; s#^https?://[^/]*##' \
    >"$work/wimg-paths.txt"
[ "$(wc -l <"$work/wimg-paths.txt")" = "${#files[@]}" ] \
    || { head -c 2000 "$work/upload.json" >&2; bench_die "expected ${#files[@]} URLs from the upload"; }

# ---- nginx: the same files in a folder on the same disk ----
ngx=$work/nginx
mkdir -p "$ngx/root/small" "$ngx/client_body_temp"
cp "${files[@]}" "$ngx/root/small/"
for f in "${files[@]}"; do echo "/small/$(basename "$f")"; done >"$work/nginx-paths.txt"
nginx_port=$(bench_free_port 19380)
{
  bench_nginx_main "$ngx"
  echo "http {"
  bench_nginx_http_common "$ngx"
  cat <<CONF
  server {
    listen 127.0.0.1:$nginx_port;
    root $ngx/root;
    location /small/ { }
  }
}
CONF
} >"$ngx/nginx.conf"
bench_start_nginx "$ngx" "$ngx/nginx.conf" "$nginx_port"
echo "nginx: pid $nginx_pid on 127.0.0.1:$nginx_port, root $ngx/root"

# ---- same bytes from both ----
for i in 0 1 7 99 500 999 1234 1999; do
  curl -sf "http://127.0.0.1:$wimg_port$(sed -n "$((i + 1))p" "$work/wimg-paths.txt")" -o "$work/check" \
      && cmp -s "$work/check" "${files[$i]}" || bench_die "WIMG does not serve ${files[$i]} byte-identical"
  curl -sf "http://127.0.0.1:$nginx_port$(sed -n "$((i + 1))p" "$work/nginx-paths.txt")" -o "$work/check" \
      && cmp -s "$work/check" "${files[$i]}" || bench_die "nginx does not serve ${files[$i]} byte-identical"
done
echo "sample of 8 files byte-identical from both"

# ---- measure ----
lua="$bench_root/bench/wrk/get-list.lua"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, random file per request; warm-up $WARMUP each"
bench_warm "http://127.0.0.1:$wimg_port" "$lua" "$work/wimg-paths.txt"
bench_warm "http://127.0.0.1:$nginx_port" "$lua" "$work/nginx-paths.txt"
results=$work/results.txt
: >"$results"
for run in $(seq 1 "$RUNS"); do
  bench_wrk WIMG "http://127.0.0.1:$wimg_port" "$lua" "$work/wimg-paths.txt" | tee -a "$results" >&2
  bench_wrk nginx "http://127.0.0.1:$nginx_port" "$lua" "$work/nginx-paths.txt" | tee -a "$results" >&2
done
echo
echo "serve-small: GET of 2,000 small JPEGs, hot, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
bench_report "$results"
if [ "${WIMG_CLUSTER:-0}" = 1 ]; then
  echo "WIMG: read from the member that holds the copies (uploads went to the other); tracker redirects below"
  for run in $(seq 1 "$RUNS"); do
    bench_wrk tracker "http://127.0.0.1:$tracker_port" "$lua" "$work/wimg-paths.txt" | tee -a "$results" >&2
  done
  awk '$1 == "tracker" { print $2 }' "$results" | sort -n \
      | awk '{ v[NR] = $1 } END { printf "tracker: median %d redirects/s (GET /<fid> answered 307 to a member, not followed)\n", v[int((NR + 1) / 2)] }'
fi
