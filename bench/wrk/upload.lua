-- wrk script: upload the files listed in a file (one path per line), cycling through them, each
-- thread from its own start. Bodies are read once in init().
--   wrk ... -s bench/wrk/upload.lua URL -- post  FILES_LIST   POST /files?name=<base name>
--   wrk ... -s bench/wrk/upload.lua URL -- put   FILES_LIST   PUT /up/<thread>-<n>-<base name>
-- "put" gives every request a new name (WebDAV PUT would otherwise overwrite one file).
-- Both modes format each request anew, so the load generator does the same work for both.
-- done() prints: RESULT requests seconds bytes p50_us p99_us socket_errors status_errors

local next_thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local mode
local names = {}
local bodies = {}
local headers = { ["Content-Type"] = "image/jpeg" }
local index = 0
local sent = 0

function init(args)
  mode = args[1]
  local list = args[2]
  if (mode ~= "post" and mode ~= "put") or list == nil then
    error("usage: wrk ... -s upload.lua URL -- post|put FILES_LIST")
  end
  for path in io.lines(list) do
    if path ~= "" then
      local f = assert(io.open(path, "rb"))
      bodies[#bodies + 1] = f:read("*a")
      f:close()
      names[#names + 1] = path:match("([^/]+)$")
    end
  end
  if #bodies == 0 then
    error("no files in " .. list)
  end
  index = ((thread_id or 0) * 997) % #bodies
end

function request()
  index = index % #bodies + 1
  sent = sent + 1
  if mode == "post" then
    return wrk.format("POST", "/files?name=" .. names[index], headers, bodies[index])
  end
  return wrk.format("PUT", "/up/" .. (thread_id or 0) .. "-" .. sent .. "-" .. names[index], headers, bodies[index])
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("RESULT %d %.6f %d %d %d %d %d\n",
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
