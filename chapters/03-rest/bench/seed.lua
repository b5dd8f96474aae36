-- seed.lua -- wrk script: creates the items that get.lua reads, one POST
-- /items at a time (run it with -c1 on a server that has no items yet),
-- and checks every answer: 201 with a Location that ends in /items/N for
-- the Nth item. After BENCH_ITEMS answers (100 unless set) it prints
--
--   seeded CREATED FAILED WHAT-THE-LAST-FAILURE-WAS
--
-- and stops; a server that never answers prints nothing.
local want = tonumber(os.getenv("BENCH_ITEMS")) or 100
local created, failed, last = 0, 0, "-"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"pear","qty":3,"price":1.25,"tags":["fruit","green"]}'

function response(status, headers, body)
  local location, suffix = "", "/items/" .. (created + 1)
  for name, value in pairs(headers) do
    if name:lower() == "location" then location = value end
  end
  if status == 201 and location:sub(-#suffix) == suffix then
    created = created + 1
  else
    failed = failed + 1
    last = status == 201 and ("201 with Location: '" .. location .. "'") or tostring(status)
  end
  if created + failed == want then
    io.write(string.format("seeded %d %d %s\n", created, failed, last))
    wrk.thread:stop()
  end
end
