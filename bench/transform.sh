#!/usr/bin/env bash
# Picture transforms on real photos (the 31 JPEGs of <corpus>/photos, 1.5-24 MP):
#
#   bench/transform.sh            (from anywhere; about 4.5 minutes)
#
# 1. Cold transforms to 300 px wide JPEG q80, 8 requests in flight: WIMG
#    (GET /<fid>?w=300&q=80&format=jpeg) vs nginx image_filter (resize 300 -, quality 80) on the
#    same files vs vipsthumbnail (--size 300x, Q=80) run two at a time (xargs -P2). Every URL is
#    requested exactly once: one curl process with --parallel --parallel-max 8 walks the list, so
#    there is no load generator start per request. A batch is every photo twice (62 pictures). To
#    make WIMG's URLs new without changing the work, the photos are uploaded anew for every batch
#    (new fids, same parameters), all before the first timed batch. nginx and vipsthumbnail keep
#    nothing between requests. Batches alternate WIMG, nginx, vipsthumbnail, $RUNS times; photos/s
#    is pictures / wall time of the batch; the median of the runs is compared.
#    Every output is checked to be a 300 px wide JPEG (vipsheader).
# 2. Cached derivatives: the same WIMG URLs again (now cached) vs nginx sendfile of WIMG's own
#    outputs saved to a folder; wrk -t$THREADS -c$CONNECTIONS (64), random URL per request,
#    $RUNS alternating runs of $DURATION after a $WARMUP warm-up each.
# 3. Peak RSS: a fresh WIMG JVM, the photos of 15 MP and more uploaded once, then 130 cold
#    transforms (w=300..325: new URLs, the same work) with 64 in flight; VmHWM and VmRSS of the
#    JVM sampled every 0.1 s from /proc/<pid>/status.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bench-env.sh"
COLD_PARALLEL=${COLD_PARALLEL:-8}
RSS_PARALLEL=${RSS_PARALLEL:-64}
command -v vipsthumbnail >/dev/null && command -v vipsheader >/dev/null \
    || bench_die "vipsthumbnail/vipsheader missing (apt-get install libvips-tools)"
filter_so=/usr/lib/nginx/modules/ngx_http_image_filter_module.so
[ -f "$filter_so" ] || bench_die "$filter_so missing (apt-get install libnginx-mod-http-image-filter)"
bench_init
bench_build
bench_corpus

photos_dir=$bench_corpus/photos
mapfile -t photos < <(find "$photos_dir" -maxdepth 1 -name '*.jpg' | sort)
[ "${#photos[@]}" -ge 10 ] || bench_die "need the photos in $photos_dir, found ${#photos[@]}"
bench_scratch "$BENCH_WORK"
work=$bench_dir
echo "photos: ${#photos[@]} JPEGs from $photos_dir, $(($(cat "${photos[@]}" | wc -c) / 1048576)) MiB"
echo "scratch: $work"

# upload_all PORT FILE...: uploads each file (POST /files?name=...); prints one path per line.
upload_all() {
  local port=$1 f cfg=$work/upload.curl
  shift
  for f in "$@"; do
    [ "$f" = "$1" ] || echo "next"
    printf 'url = "http://127.0.0.1:%s/files?name=%s"\ndata-binary = "@%s"\nheader = "Content-Type: image/jpeg"\nwrite-out = "\\n"\n' \
        "$port" "$(basename "$f")" "$f"
  done >"$cfg"
  curl -sf -K "$cfg" >"$work/upload.json" || bench_die "upload to WIMG failed"
  local paths
  paths=$(grep -o '"url" *: *"[^"]*"' "$work/upload.json" | sed -E 's/.*"([^"]*)"$/\1/; s#^https?://[^/]*##')
  [ "$(wc -l <<<"$paths")" = "$#" ] || bench_die "expected $# URLs from the upload"
  echo "$paths"
}

# cold_batch NAME BASE_URL PATHS_FILE OUT_DIR PARALLEL: GETs every path once, PARALLEL in flight,
# into OUT_DIR/<n>.jpg; prints "NAME pictures seconds pictures/s"; fails on any status but 200
# (with a 6th argument "503", 503 answers are allowed: the line then ends with their count).
cold_batch() {
  local name=$1 base=$2 list=$3 out=$4 par=$5 allow=${6:-} cfg n=0 p
  mkdir -p "$out"
  cfg=$out.curl
  while read -r p; do
    n=$((n + 1))
    printf 'url = "%s%s"\noutput = "%s/%d.jpg"\n' "$base" "$p" "$out" "$n"
  done <"$list" >"$cfg"
  local t0 t1
  t0=$(date +%s%N)
  curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$par" -K "$cfg" -w '%{http_code}\n' >"$out.codes" \
      || bench_die "$name: curl failed"
  t1=$(date +%s%N)
  local bad
  bad=$(grep -Evc "^(200${allow:+|$allow})\$" "$out.codes" || true)
  [ "$bad" = 0 ] || { sort "$out.codes" | uniq -c >&2; bench_die "$name: $bad of $n answers were not 200"; }
  local busy
  busy=$(grep -c '^503$' "$out.codes" || true)
  awk -v s="$name" -v n="$n" -v t=$((t1 - t0)) -v b="${allow:+ $busy}" \
      'BEGIN { printf "%s %d %.3f %.2f%s\n", s, n, t / 1e9, n / (t / 1e9), b }'
}

# check_widths NAME DIR: every .jpg in DIR is a 300 px wide JPEG.
check_widths() {
  local name=$1 dir=$2 f w
  for f in "$dir"/*.jpg; do
    [ "$(head -c 3 "$f" | od -An -tx1 | tr -d ' ')" = ffd8ff ] || bench_die "$name: $f is not a JPEG"
  done
  w=$(find "$dir" -name '*.jpg' -print0 | xargs -0 vipsheader -f width | sort | uniq -c)
  [ "$(wc -l <<<"$w")" = 1 ] && [ "$(awk '{ print $2 }' <<<"$w")" = 300 ] \
      || { echo "$w" >&2; bench_die "$name: outputs in $dir are not all 300 px wide"; }
}

# ---- WIMG ----
wimg_port=$(bench_free_port 19333)
bench_start_wimg "$wimg_port" "$work/wimg-data" never "$work/wimg.log"
echo "WIMG: pid $wimg_pid on 127.0.0.1:$wimg_port; $(grep -m 1 -i 'imaging engine' "$work/wimg.log" || echo 'engine not logged')"
echo "uploading the photos $((2 * RUNS)) times (new fids for every cold batch, not timed)..."
for run in $(seq 1 "$RUNS"); do
  { upload_all "$wimg_port" "${photos[@]}"; upload_all "$wimg_port" "${photos[@]}"; } \
      | sed 's/$/?w=300\&q=80\&format=jpeg/' >"$work/wimg-cold-$run.txt"
done

# ---- nginx: image_filter on the photos, static files for part 2 ----
ngx=$work/nginx
mkdir -p "$ngx/root/photos" "$ngx/root/thumbs" "$ngx/client_body_temp"
cp "${photos[@]}" "$ngx/root/photos/"
{ for f in "${photos[@]}"; do echo "/photos/$(basename "$f")"; done
  for f in "${photos[@]}"; do echo "/photos/$(basename "$f")"; done; } >"$work/nginx-cold.txt"
nginx_port=$(bench_free_port 19380)
{
  echo "load_module $filter_so;"
  bench_nginx_main "$ngx"
  echo "http {"
  bench_nginx_http_common "$ngx"
  cat <<CONF
  server {
    listen 127.0.0.1:$nginx_port;
    root $ngx/root;
    location /photos/ {
      image_filter resize 300 -;
      image_filter_jpeg_quality 80;
      image_filter_buffer 64M;
    }
    location /thumbs/ { }
  }
}
CONF
} >"$ngx/nginx.conf"
bench_start_nginx "$ngx" "$ngx/nginx.conf" "$nginx_port"
echo "nginx: pid $nginx_pid on 127.0.0.1:$nginx_port, $(nginx -v 2>&1 | sed 's/.*: //'), image_filter"

# ---- vipsthumbnail: "n path" per line, every photo twice ----
{ n=0; for f in "${photos[@]}" "${photos[@]}"; do n=$((n + 1)); echo "$n $f"; done; } >"$work/vips-cold.txt"
vips_batch() {
  local out=$1 t0 t1 n
  mkdir -p "$out"
  n=$(wc -l <"$work/vips-cold.txt")
  t0=$(date +%s%N)
  sed "s#\$# $out#" "$work/vips-cold.txt" \
      | xargs -P2 -n3 sh -c 'exec vipsthumbnail "$1" --size 300x -o "$2/$0.jpg[Q=80]"' \
      || bench_die "vipsthumbnail failed"
  t1=$(date +%s%N)
  [ "$(find "$out" -name '*.jpg' | wc -l)" = "$n" ] || bench_die "vipsthumbnail: missing outputs in $out"
  awk -v n="$n" -v t=$((t1 - t0)) 'BEGIN { printf "vipsthumbnail %d %.3f %.2f\n", n, t / 1e9, n / (t / 1e9) }'
}

# ---- 1. cold ----
echo
echo "1. cold transforms to 300 px JPEG q80: $(wc -l <"$work/nginx-cold.txt") pictures per batch, $COLD_PARALLEL in flight (vipsthumbnail: 2 at a time)"
cold=$work/cold.txt
: >"$cold"
for run in $(seq 1 "$RUNS"); do
  cold_batch WIMG "http://127.0.0.1:$wimg_port" "$work/wimg-cold-$run.txt" "$work/out/wimg-$run" "$COLD_PARALLEL" \
      | tee -a "$cold" >&2
  cold_batch nginx "http://127.0.0.1:$nginx_port" "$work/nginx-cold.txt" "$work/out/nginx-$run" "$COLD_PARALLEL" \
      | tee -a "$cold" >&2
  vips_batch "$work/out/vips-$run" | tee -a "$cold" >&2
done
for run in $(seq 1 "$RUNS"); do
  for side in wimg nginx vips; do check_widths "$side" "$work/out/$side-$run"; done
done
echo "all $((3 * RUNS)) batches: every output a 300 px wide JPEG"

# ---- 2. cached derivatives ----
n=0
: >"$work/wimg-hot.txt"
: >"$work/nginx-hot.txt"
for run in $(seq 1 "$RUNS"); do
  i=0
  while read -r p; do
    i=$((i + 1))
    n=$((n + 1))
    cp "$work/out/wimg-$run/$i.jpg" "$ngx/root/thumbs/$n.jpg"
    echo "$p" >>"$work/wimg-hot.txt"
    echo "/thumbs/$n.jpg" >>"$work/nginx-hot.txt"
  done <"$work/wimg-cold-$run.txt"
done
for i in 1 2 7 30 31 62 $n; do
  curl -sf "http://127.0.0.1:$wimg_port$(sed -n "${i}p" "$work/wimg-hot.txt")" -o "$work/check" \
      && cmp -s "$work/check" "$ngx/root/thumbs/$i.jpg" || bench_die "WIMG's second answer of URL $i differs from its first"
  curl -sf "http://127.0.0.1:$nginx_port/thumbs/$i.jpg" -o "$work/check" \
      && cmp -s "$work/check" "$ngx/root/thumbs/$i.jpg" || bench_die "nginx does not serve thumbs/$i.jpg byte-identical"
done
echo
echo "2. cached derivatives: $n URLs ($(($(cat "$ngx"/root/thumbs/*.jpg | wc -c) / 1024)) KiB), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, random URL per request, warm-up $WARMUP each; samples byte-identical"
lua="$bench_root/bench/wrk/get-list.lua"
bench_warm "http://127.0.0.1:$wimg_port" "$lua" "$work/wimg-hot.txt"
bench_warm "http://127.0.0.1:$nginx_port" "$lua" "$work/nginx-hot.txt"
hot=$work/hot.txt
: >"$hot"
for run in $(seq 1 "$RUNS"); do
  bench_wrk WIMG "http://127.0.0.1:$wimg_port" "$lua" "$work/wimg-hot.txt" | tee -a "$hot" >&2
  bench_wrk nginx "http://127.0.0.1:$nginx_port" "$lua" "$work/nginx-hot.txt" | tee -a "$hot" >&2
done

# ---- 3. peak RSS, fresh JVM ----
kill -TERM "$wimg_pid"
wait "$wimg_pid" 2>/dev/null || true
kill -TERM "$nginx_pid"
wait "$nginx_pid" 2>/dev/null || true
mapfile -t big < <(for f in "${photos[@]}"; do
  [ $(($(vipsheader -f width "$f") * $(vipsheader -f height "$f"))) -ge 15000000 ] && echo "$f"; done)
[ "${#big[@]}" -ge 1 ] || bench_die "no photo of 15 MP or more"
rss_port=$(bench_free_port $((wimg_port + 1)))
bench_start_wimg "$rss_port" "$work/wimg-rss-data" never "$work/wimg-rss.log"
rss_before=$(awk '/^VmRSS/ { print $2 }' "/proc/$wimg_pid/status")
upload_all "$rss_port" "${big[@]}" >"$work/rss-fids.txt"
rss_uploaded=$(awk '/^VmRSS/ { print $2 }' "/proc/$wimg_pid/status")
for w in $(seq 300 325); do sed "s/\$/?w=$w\&q=80\&format=jpeg/" "$work/rss-fids.txt"; done >"$work/rss-urls.txt"
( while kill -0 "$wimg_pid" 2>/dev/null; do
    awk '/^VmRSS/ { print $2 }' "/proc/$wimg_pid/status" 2>/dev/null || true
    sleep 0.1
  done ) >"$work/rss-samples.txt" &
sampler=$!
bench_pids+=("$sampler")
rss_line=$(cold_batch WIMG-64 "http://127.0.0.1:$rss_port" "$work/rss-urls.txt" "$work/out/rss" "$RSS_PARALLEL" 503)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$wimg_pid/status")
rss_after=$(awk '/^VmRSS/ { print $2 }' "/proc/$wimg_pid/status")
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
rss_max=$(sort -n "$work/rss-samples.txt" | tail -n 1)

# ---- report ----
median_col() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$3" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "transform: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB, $(vips --version 2>/dev/null || true)"
echo
echo "1. cold transforms, 300 px wide JPEG q80 ($(wc -l <"$work/nginx-cold.txt") pictures per batch)"
printf '%-4s %-14s %9s %9s %10s\n' run side pictures seconds photos/s
awk '{ run[$1]++; printf "%-4d %-14s %9d %9.2f %10.2f\n", run[$1], $1, $2, $3, $4 }' "$cold"
cw=$(median_col WIMG 4 "$cold")
cn=$(median_col nginx 4 "$cold")
cv=$(median_col vipsthumbnail 4 "$cold")
awk -v w="$cw" -v n="$cn" -v v="$cv" 'BEGIN {
  printf "median photos/s: WIMG %.2f, nginx image_filter %.2f, vipsthumbnail -P2 %.2f\n", w, n, v
  printf "ratio WIMG/nginx %.2fx (goal >= 1.5x), WIMG/vipsthumbnail %.2fx (goal >= 1.0x)\n", w / n, w / v }'
echo
echo "2. cached derivatives ($n URLs), wrk -c$CONNECTIONS"
bench_report "$hot" | sed 's/^ratio WIMG\/nginx req\/s/ratio WIMG\/nginx req\/s (goal >= 0.8x)/'
echo
echo "3. peak RSS of a fresh WIMG JVM, $(wc -l <"$work/rss-urls.txt") cold transforms of ${#big[@]} photos >= 15 MP (w=300..325), $RSS_PARALLEL in flight"
read -r _ rn rs rp rbusy <<<"$rss_line"
printf 'batch: %d requests in %.2f s (%.2f/s), %d answered 503 (queue full), the rest 200\n' "$rn" "$rs" "$rp" "$rbusy"
printf 'VmRSS idle %d MiB, after upload %d MiB, max sampled %d MiB, after %d MiB; VmHWM %d MiB\n' \
    $((rss_before / 1024)) $((rss_uploaded / 1024)) $((rss_max / 1024)) $((rss_after / 1024)) $((hwm / 1024))
