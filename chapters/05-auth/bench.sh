#!/bin/sh
# bench.sh -- `make bench CHAPTER=auth`: what a login costs, and what it
# must not cost the other clients. For your restd and the reference's, each
# at the default --pwhash (interactive: Argon2id, 2 passes over 64 MiB):
#   - logins/s: 8 clients POST /sessions without pause (bench/login.lua);
#   - GET /health's latency, p50 and p99, from one more client: with the
#     server idle, then while those 8 clients log in. The hashing runs on
#     the worker threads; /health is answered on the event loop, which must
#     not wait for them. The target: a p99 under 50 ms while 8 log in.
# Servers run on core 0 and wrk on core 1, so the loop and the four
# hashing workers share one core; each number is the median of
# BENCH_ROUNDS rounds. It never fails on a slow result.
#
#   BENCH_TIME=3 BENCH_ROUNDS=3 make bench CHAPTER=auth
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
time_s=${BENCH_TIME:-3}
rounds=${BENCH_ROUNDS:-3}
conns=8
BENCH_USER=bench
BENCH_PASS="bench password $$"
export BENCH_USER BENCH_PASS          # login.lua reads them
work_in=$root/.workbook/bench
lua_dir=$here/bench
apis=""

for tool in wrk curl; do
  if ! command -v $tool >/dev/null 2>&1; then
    echo "make bench needs $tool:"
    echo "  Debian/Ubuntu: sudo apt-get install $tool   Fedora: sudo dnf install $tool   macOS: brew install $tool"
    exit 2
  fi
done
mkdir -p "$work_in" || exit 1
# shellcheck source=harness/benchlib.sh disable=SC2034 # lua_dir, apis: its
. "$root/harness/benchlib.sh"

echo "building your restd and the reference's without sanitizers (-O2) ..."
learner=$(make --no-print-directory -s -C "$here" print-program SAN=0 2>/dev/null) ||
  { echo "your server does not build: make check CHAPTER=auth shows why"; learner=""; }
reference=$(make --no-print-directory -s -C "$here" print-program IMPL=solution SAN=0) || exit 1

# p_latency PORT PCT -- GET /health's latency at that percentile, in ms,
# from wrk --latency with one connection
p_latency() {
  on_client wrk -t1 -c1 -d"${time_s}s" --latency "http://127.0.0.1:$1/health" 2>&1 |
    awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u);
                              if (u == "us") v /= 1000; else if (u == "s") v *= 1000;
                              printf "%.2f\n", v }'
}

for who in reference learner; do
  case $who in reference) bin=$reference ;; learner) bin=$learner ;; esac
  [ -n "$bin" ] || continue
  start "$who" "$bin" --db "$work/$who.db" --port 0 --max-clients 64 || continue
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"username\":\"$BENCH_USER\",\"password\":\"$BENCH_PASS\"}" "http://127.0.0.1:$port/users")
  if [ "$code" != 201 ]; then
    echo "$who: not measured: POST /users answered $code, not 201 (make check CHAPTER=auth, stage 1)"
    continue
  fi
  apis="$apis $who:$port"
done
[ -n "$apis" ] || exit 1

warn_busy "before the rounds"
r=1
while [ "$r" -le "$rounds" ]; do
  echo "round $r of $rounds ..."
  for s in $apis; do
    who=${s%%:*} port=${s#*:}
    rps "$port" /sessions "$lua_dir/login.lua" >> "$work/$who.logins"
    p_latency "$port" 50 >> "$work/$who.idle50"
    p_latency "$port" 99 >> "$work/$who.idle99"
    # the same while 8 clients log in, for a second longer than the probe
    on_client wrk -t1 -c"$conns" -d"$((time_s + 1))s" -s "$lua_dir/login.lua" \
      "http://127.0.0.1:$port/sessions" > /dev/null 2>&1 &
    bg=$!
    p_latency "$port" 50 >> "$work/$who.busy50"
    p_latency "$port" 99 >> "$work/$who.busy99"
    wait "$bg"
  done
  r=$((r + 1))
done
warn_busy "after the rounds"

echo
echo "wrk: $conns clients logging in, 1 client probing GET /health; ${time_s}s per run, median of $rounds rounds"
[ "$pinned" = 1 ] && echo "servers pinned to core 0 (the loop and its workers share it), wrk to core 1"
echo "--pwhash interactive: Argon2id, 2 passes over 64 MiB, per login"
printf '%-12s %10s %22s %30s\n' server logins/s "/health p50/p99 idle" "/health p50/p99, 8 logging in"
for s in $apis; do
  who=${s%%:*}
  printf '%-12s %10s %22s %30s\n' "$who" "$(median "$work/$who.logins")" \
    "$(median "$work/$who.idle50") / $(median "$work/$who.idle99") ms" \
    "$(median "$work/$who.busy50") / $(median "$work/$who.busy99") ms"
done
echo
echo "target: /health p99 under 50 ms while 8 clients log in (the reference's: $(median "$work/reference.busy99") ms)"
lrn=$(value learner logins) ref=$(value reference logins)
[ -n "$lrn" ] && echo "yours / reference, logins/s: $(ratio "$lrn" "$ref")"
exit 0
