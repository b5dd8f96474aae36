-- get.lua -- wrk script: GET /items/{id} for the ids 1 to BENCH_ITEMS
-- (100 unless set) in turn. bench.sh creates those items first (seed.lua).
--
--   wrk -t1 -c50 -d3s -s get.lua http://127.0.0.1:8080
--
-- The requests are formatted once, in init(): request() only hands out the
-- next one, so that wrk spends its time on the network, not in Lua.
local n = tonumber(os.getenv("BENCH_ITEMS")) or 100
local requests, i = {}, 0

function init(args)
  for id = 1, n do
    requests[id] = wrk.format("GET", "/items/" .. id)
  end
end

function request()
  i = i % n + 1
  return requests[i]
end
