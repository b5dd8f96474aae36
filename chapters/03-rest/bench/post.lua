-- post.lua -- wrk script: POST /items with the same small item again and
-- again. Each request creates an item, so the server's store grows by
-- requests/s x seconds items during a run.
--
--   wrk -t1 -c50 -d3s -s post.lua http://127.0.0.1:8080/items
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"pear","qty":3,"price":1.25,"tags":["fruit","green"]}'
