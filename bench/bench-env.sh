# Sourced by the benchmark scripts in this folder (bash). Finds the JDK and the tools, builds the
# bench module, makes sure the picture corpus exists, starts and stops WIMG and nginx, runs wrk.
# Every process started here is stopped by its pid when the script exits (see bench_cleanup).
#
# Environment (all optional):
#   WIMG_CORPUS    picture corpus folder            (default: <repo>/../corpus)
#   WIMG_SHARED    folder holding corpus/make-corpus.sh (default: <repo>/../shared)
#   BENCH_WORK     scratch folder on the data disk  (default: <repo>/bench/target/bench-work)
#   BENCH_SHM      scratch folder on a tmpfs        (default: /dev/shm)
#   THREADS CONNECTIONS DURATION WARMUP RUNS        wrk settings (2, 64, 10s, 15s, 3); the JIT
#                  needs about 15 s of load on 2 cores to settle (C2 took 39 % of the server's CPU
#                  9-15 s after start in an upload run, 2026-11-25)
#   TIMEOUT        a request unanswered this long counts as an error and fails the run (2s)
#   WIMG_JAVA_OPTS extra JVM flags for the WIMG server (as for ./wimg)
#   BENCH_SKIP_BUILD=1  use the classes already in bench/target

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-15s}
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-2s}
BENCH_WORK=${BENCH_WORK:-$bench_root/bench/target/bench-work}
BENCH_SHM=${BENCH_SHM:-/dev/shm}
bench_pids=()
bench_dirs=()

bench_die() {
  echo "bench: $*" >&2
  exit 1
}

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null || true
    fi
  done
  bench_pids=()
  local d
  for d in "${bench_dirs[@]}"; do
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
      echo "bench: kept $d (BENCH_KEEP=1)" >&2
    else
      rm -rf "$d"
    fi
  done
  bench_dirs=()
}

# Checks the tools and finds a JDK >= 25 (same rules as ./mvnw and ./wimg).
bench_init() {
  local tool
  for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || bench_die "$tool is not installed (apt-get install $tool)"
  done
  # shellcheck source=/dev/null
  . "$bench_root/.mvn/find-jdk.sh"
  wimg_find_jdk || bench_die "no JDK 25 or newer found (set JAVA_HOME)"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Builds the bench module and everything it depends on (no tests); sets bench_cp.
bench_build() {
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "building bench module..." >&2
    (cd "$bench_root" && ./mvnw -q -B package -pl bench -am -DskipTests >&2) || bench_die "build failed"
  fi
  bench_cp="$bench_root/bench/target/classes:$bench_root/bench/target/lib/*"
  [ -d "$bench_root/bench/target/lib" ] || bench_die "bench/target/lib missing: build the bench module"
}

# Sets bench_corpus to the corpus folder, (re)creating it when small/ is incomplete.
bench_corpus() {
  bench_corpus=${WIMG_CORPUS:-$bench_root/../corpus}
  local have=0
  [ -d "$bench_corpus/small" ] && have=$(find "$bench_corpus/small" -name '*.jpg' | wc -l)
  if [ "$have" -lt 2000 ]; then
    local maker=${WIMG_SHARED:-$bench_root/../shared}/corpus/make-corpus.sh
    [ -f "$maker" ] || bench_die "corpus missing in $bench_corpus and no $maker to make it"
    echo "making the picture corpus in $bench_corpus (one-off, a few minutes)..." >&2
    bash "$maker" "$bench_corpus" >&2
  fi
  bench_corpus=$(cd "$bench_corpus" && pwd)
}

# Makes a fresh scratch folder under $1 and sets bench_dir to it; it is deleted at exit.
# (Not called as $(...): the subshell would lose the record of what to delete.)
bench_scratch() {
  mkdir -p "$1"
  bench_dir=$(mktemp -d "$1/wimg-bench.XXXXXX")
  bench_dirs+=("$bench_dir")
}

# Prints the first TCP port from $1 up that nothing on 127.0.0.1 listens on.
bench_free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}

# Waits until $2 answers HTTP (any status), or fails naming the log $3; $1 is the server's pid.
bench_wait_http() {
  local pid=$1 url=$2 log=$3
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; bench_die "server exited while starting (log: $log)"; }
    curl -s -m 2 -o /dev/null "$url" && return 0
    sleep 0.2
  done
  tail -n 30 "$log" >&2
  bench_die "server did not answer $url within 60 s (log: $log)"
}

# bench_start_wimg PORT DATA_DIR FSYNC LOG: starts the all-in-one server; sets wimg_pid.
bench_start_wimg() {
  local port=$1 data=$2 fsync=$3 log=$4
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xss512k -Dio.netty.leakDetection.level=disabled ${WIMG_JAVA_OPTS:-} \
      -cp "$bench_cp" dev.wimg.bench.ServeMain --port "$port" --data "$data" --fsync "$fsync" \
      >"$log" 2>&1 &
  wimg_pid=$!
  bench_pids+=("$wimg_pid")
  bench_wait_http "$wimg_pid" "http://127.0.0.1:$port/status" "$log"
}

# bench_start_wimg_node PORT DATA LOG ARGS...: as bench_start_wimg (fsync always), a storage node
# of a cluster: ARGS are ServeMain's --group G --tracker URL [--copies N]. Sets wimg_pid.
bench_start_wimg_node() {
  local port=$1 data=$2 log=$3
  shift 3
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xss512k -Dio.netty.leakDetection.level=disabled ${WIMG_JAVA_OPTS:-} \
      -cp "$bench_cp" dev.wimg.bench.ServeMain --port "$port" --data "$data" --fsync always "$@" \
      >"$log" 2>&1 &
  wimg_pid=$!
  bench_pids+=("$wimg_pid")
  bench_wait_http "$wimg_pid" "http://127.0.0.1:$port/status" "$log"
}

# bench_start_tracker PORT RAFT_DIR LOG: starts a tracker (TrackerMain); sets tracker_pid.
bench_start_tracker() {
  local port=$1 raft=$2 log=$3
  "$JAVA_HOME/bin/java" -cp "$bench_cp" dev.wimg.bench.TrackerMain "$port" "$raft" >"$log" 2>&1 &
  tracker_pid=$!
  bench_pids+=("$tracker_pid")
  bench_wait_http "$tracker_pid" "http://127.0.0.1:$port/status" "$log"
}

# bench_wait_serving TRACKER_PORT N: waits up to 30 s until the tracker shows N members serving.
bench_wait_serving() {
  local port=$1 want=$2 serving=0
  for _ in $(seq 1 300); do
    serving=$(curl -sf "http://127.0.0.1:$port/cluster" | grep -o '"state":"serving"' | wc -l || true)
    [ "$serving" = "$want" ] && return 0
    sleep 0.1
  done
  bench_die "$serving of $want members serving: $(curl -s "http://127.0.0.1:$port/cluster")"
}

# bench_start_nginx PREFIX CONF: starts nginx in the foreground of a background job with its own
# prefix (pid file, logs, temp folders there); sets nginx_pid. Never touches the system nginx.
bench_start_nginx() {
  local prefix=$1 conf=$2 port=$3
  nginx -t -q -p "$prefix" -e "$prefix/error.log" -c "$conf" || bench_die "bad nginx config $conf"
  nginx -p "$prefix" -e "$prefix/error.log" -c "$conf" >"$prefix/stdout.log" 2>&1 &
  nginx_pid=$!
  bench_pids+=("$nginx_pid")
  bench_wait_http "$nginx_pid" "http://127.0.0.1:$port/" "$prefix/error.log"
}

# The nginx settings common to both comparisons: tuned as one would for static files.
# Prints the http-block directives; $1 is the prefix folder.
bench_nginx_http_common() {
  cat <<CONF
  types { image/jpeg jpg; }
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_min_uses 1;
  open_file_cache_errors on;
  client_body_temp_path $1/client_body_temp;
  proxy_temp_path $1/proxy_temp;
  fastcgi_temp_path $1/fastcgi_temp;
  uwsgi_temp_path $1/uwsgi_temp;
  scgi_temp_path $1/scgi_temp;
CONF
}

# Prints the main-context directives: 2 workers, daemon off (the script owns the process).
bench_nginx_main() {
  local user=""
  [ "$(id -u)" = 0 ] && user="user root root;"
  cat <<CONF
worker_processes 2;
daemon off;
$user
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
CONF
}

# bench_wrk NAME URL LUA [LUA_ARGS...]: runs wrk once for $DURATION; prints one line
#   NAME req_s mb_s p50_ms p99_ms requests
# and fails if any request errored (socket error or HTTP status >= 400).
bench_wrk() {
  local name=$1 url=$2 lua=$3
  shift 3
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$TIMEOUT" -s "$lua" "$url" -- "$@") \
      || bench_die "wrk failed against $url"
  local line
  line=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; bench_die "wrk printed no RESULT line"; }
  # RESULT requests seconds bytes p50_us p99_us socket_errors status_errors
  read -r _ requests seconds bytes p50 p99 sockerr staterr <<<"$line"
  if [ "$sockerr" != 0 ] || [ "$staterr" != 0 ]; then
    echo "$out" >&2
    bench_die "$name: $sockerr socket errors, $staterr HTTP errors (>= 400) in $requests requests"
  fi
  awk -v n="$name" -v r="$requests" -v s="$seconds" -v b="$bytes" -v p50="$p50" -v p99="$p99" \
      'BEGIN { printf "%s %.0f %.1f %.2f %.2f %d\n", n, r / s, b / s / 1048576, p50 / 1000, p99 / 1000, r }'
}

# bench_warm URL LUA [LUA_ARGS...]: a short wrk run whose numbers are thrown away.
bench_warm() {
  local url=$1 lua=$2
  shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$TIMEOUT" -s "$lua" "$url" -- "$@" >/dev/null \
      || bench_die "warm-up against $url failed"
}

# bench_median SIDE FILE: median req/s of SIDE's lines in a results file.
bench_median() {
  awk -v s="$1" '$1 == s { print $2 }' "$2" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# bench_report FILE: FILE has lines "side req_s mb_s p50_ms p99_ms requests" (side WIMG|nginx);
# prints the table, the medians and the ratio WIMG/nginx of median req/s.
bench_report() {
  local file=$1
  echo
  printf '%-6s %-6s %10s %9s %9s %9s\n' run side req/s MB/s p50_ms p99_ms
  awk '{ run[$1]++; printf "%-6d %-6s %10d %9.1f %9.2f %9.2f\n", run[$1], $1, $2, $3, $4, $5 }' "$file"
  echo "(MB/s: response bytes, headers included)"
  echo
  local w g
  w=$(bench_median WIMG "$file")
  g=$(bench_median nginx "$file")
  printf 'median WIMG  %10d req/s\nmedian nginx %10d req/s\n' "$w" "$g"
  awk -v w="$w" -v g="$g" '
    $1 == "WIMG" { a[++na] = $2 } $1 == "nginx" { b[++nb] = $2 }
    END {
      per = ""
      for (i = 1; i <= na && i <= nb; i++) per = per sprintf(" %.2f", a[i] / b[i])
      printf "ratio WIMG/nginx req/s (median of %d alternating runs): %.2fx   (per run:%s)\n", na, w / g, per
    }' "$file"
}
