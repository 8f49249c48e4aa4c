-- wrk script of the claims benchmark (bench/claims_bench.sh):
--
--   wrk -tW -cC -dTs --latency -s bench/claim.lua http://127.0.0.1:PORT -- TOKENS PER_STATION
--
-- TOKENS has one line per wrk thread, "<station> <token>": thread k (from
-- 1) claims as the officer of line k, at that officer's station. Each
-- station holds PER_STATION new alerts with ids "%016x" of 0, 1, 2, ...;
-- each thread POSTs /v1/alerts/<id>/claim with the next id of its own
-- station, so no id is ever claimed twice (a 409 would mean a repeat).
-- A thread that runs past PER_STATION stops asking for new ids and repeats
-- the last one: those answers are 409s and show up below.
--
-- done() prints one line the harness reads:
--   claims requests=N duration_us=D rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
--          non2xx=N connect_errors=N read_errors=N write_errors=N timeouts=N
--          exhausted=N status_<code>=N ...
-- The status_<code> counts come from a response() hook, which costs wrk
-- some CPU; it is on only when CLAIM_STATUSES=1 is in the environment.
-- Otherwise the 200s are the requests minus non2xx (the harness also
-- counts the claimed alerts in Redis).

local threads = {}
local next_tid = 1

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"), "claim.lua: cannot open the tokens file " .. tostring(args[1]))
  local k = 0
  for line in f:lines() do
    local st, tok = line:match("^(%S+)%s+(%S+)")
    if st then
      k = k + 1
      if k == tid then station, token = st, tok end
    end
  end
  f:close()
  assert(token, "claim.lua: no token on line " .. tid .. " of " .. args[1] .. " (one line per wrk thread)")
  per_station = tonumber(args[2])
  n = 0
  exhausted = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  if n >= per_station then
    exhausted = exhausted + 1
    return wrk.format(nil, string.format("/v1/alerts/%016x/claim", per_station - 1))
  end
  local path = string.format("/v1/alerts/%016x/claim", n)
  n = n + 1
  return wrk.format(nil, path)
end

if os.getenv("CLAIM_STATUSES") == "1" then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local exh, st = 0, {}
  for _, t in ipairs(threads) do
    exh = exh + (t:get("exhausted") or 0)
    for code, c in pairs(t:get("statuses") or {}) do st[code] = (st[code] or 0) + c end
  end
  local codes = {}
  for code, c in pairs(st) do table.insert(codes, string.format("status_%d=%d", code, c)) end
  table.sort(codes)
  io.write(string.format(
    "claims requests=%d duration_us=%d rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d exhausted=%d %s\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout, exh, table.concat(codes, " ")))
end
