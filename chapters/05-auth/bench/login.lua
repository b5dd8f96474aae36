-- login.lua -- wrk script: POST /sessions with the bench's account, again
-- and again: each request is one Argon2id verify at the server's --pwhash
-- profile. bench.sh registers the account first (BENCH_USER, BENCH_PASS).
--
--   wrk -t1 -c8 -d3s -s login.lua http://127.0.0.1:8080/sessions
local user = os.getenv("BENCH_USER") or "bench"
local pass = os.getenv("BENCH_PASS") or "bench password"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. user .. '","password":"' .. pass .. '"}'
