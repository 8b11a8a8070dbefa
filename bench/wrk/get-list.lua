-- wrk script: GET the paths listed in a file (one per line), in a random order per thread.
--   wrk -t2 -c64 -d10s -s bench/wrk/get-list.lua http://127.0.0.1:PORT -- PATHS_FILE
-- Requests are formatted once in init(), so the per-request cost is a table lookup.
-- done() prints one machine-readable line:
--   RESULT requests seconds bytes p50_us p99_us socket_errors status_errors

local next_thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local requests = {}

function init(args)
  local list = args[1]
  if list == nil then
    error("usage: wrk ... -s get-list.lua URL -- PATHS_FILE")
  end
  for path in io.lines(list) do
    if path ~= "" then
      requests[#requests + 1] = wrk.format("GET", path)
    end
  end
  if #requests == 0 then
    error("no paths in " .. list)
  end
  math.randomseed(1000 + (thread_id or 0))
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("RESULT %d %.6f %d %d %d %d %d\n",
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
