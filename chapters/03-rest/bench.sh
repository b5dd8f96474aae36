#!/bin/sh
# bench.sh -- `make bench CHAPTER=rest`: requests per second of your API,
# the reference, and the same API in Express on Node.js (bench/express/app.js,
# when Node.js is installed), each pinned to one CPU core with wrk on
# another: GET /items/{id} and POST /items, over keep-alive connections.
# Chapter 2's reference serving a 612-byte file is measured in the same
# rounds: the same HTTP layer with only a small file behind it, against
# which GET /items/{id} shows what the API's own work costs.
#
# Before it is measured, each API gets BENCH_ITEMS (100) items, created one
# by one with POST and checked (bench/seed.lua); GET /items/{id} then reads
# them in turn (bench/get.lua). POST /items creates an item per request
# (bench/post.lua), so each store grows by POST req/s x seconds x rounds
# items during the run: the C store appends to an array, Express's Map
# takes a new entry; neither slows down at that size.
#
# After a warm-up that is not counted (Node.js compiles as it runs), the
# servers take turns, BENCH_ROUNDS rounds, and the median of each is
# shown: a virtual machine's speed drifts by 10-20% from one run to the
# next, and the rounds spread the drift over all of them. It prints the
# numbers and the ratios; it never fails on a slow result.
#
#   BENCH_TIME=3 BENCH_ROUNDS=3 BENCH_CONNS=50 make bench CHAPTER=rest
#
# Express is installed with npm, once, into .workbook/bench/express (never
# by make check or make test); bench/express/package-lock.json pins it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
time_s=${BENCH_TIME:-3}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-50}
BENCH_ITEMS=100
export BENCH_ITEMS   # the Lua scripts read it

if ! command -v wrk >/dev/null 2>&1; then
  echo "make bench needs wrk, an HTTP load generator:"
  echo "  Debian/Ubuntu: sudo apt-get install wrk   Fedora: sudo dnf install wrk   macOS: brew install wrk"
  exit 2
fi

# Servers on core 0, wrk on core 1, when there are two cores to pin to.
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
pinned=0
if command -v taskset >/dev/null 2>&1 && [ "$ncpu" -ge 2 ]; then
  pinned=1
fi

# on_client CMD... -- runs CMD on wrk's core
on_client() {
  if [ $pinned = 1 ]; then taskset -c 1 "$@"; else "$@"; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/restbench.XXXXXX") || exit 1
pids=""
# Stops every server this script started (SIGTERM; SIGKILL for one still
# running 3 s later), then removes the temporary folder. Runs once: on
# exit, and on the signals that would end the script without it (Ctrl-C,
# SIGTERM, a hang-up, a closed pipe as in `make bench | head`), which exit.
# shellcheck disable=SC2317 # only the traps call it
cleanup() {
  trap - EXIT HUP INT PIPE TERM
  for p in $pids; do kill "$p" 2>/dev/null; done
  i=0
  for p in $pids; do
    while kill -0 "$p" 2>/dev/null && [ "$i" -lt 30 ]; do i=$((i + 1)); sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# start NAME CMD... -- runs a server that prints "listening on HOST:PORT"
# on core 0, and sets port and server (its pid). Returns 1 (and says why)
# when it does not start.
start() {
  name=$1
  shift
  [ $pinned = 1 ] && set -- taskset -c 0 "$@"
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  server=$!
  pids="$pids $server"
  i=0
  while ! grep -q '^listening on ' "$work/$name.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$server" 2>/dev/null; then
      echo "$name did not start: $(head -c 500 "$work/$name.err")"
      return 1
    fi
    sleep 0.05
  done
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$name.out")
}

# load SECONDS PORT PATH [SCRIPT] -- wrk's report of a run
load() {
  on_client wrk -t1 -c"$conns" -d"$1s" ${4:+-s "$4"} "http://127.0.0.1:$2$3" 2>&1
}

# rps PORT PATH [SCRIPT] -- requests/s that wrk measured; "(errors)" after
# it when some answers were not 2xx or connections failed (then the number
# means little)
rps() {
  load "$time_s" "$@" |
    awk '/Requests\/sec/ { r = int($2) } /Non-2xx|Socket errors/ { bad = 1 }
         END { print (bad ? r "(errors)" : r) }'
}

# seed NAME PORT -- creates BENCH_ITEMS items, one at a time; returns 1
# (and says why) unless every answer was 201 with its Location
seed() {
  line=$(on_client wrk -t1 -c1 -d2s -s "$here/bench/seed.lua" "http://127.0.0.1:$2/items" 2>&1 |
    grep '^seeded ')
  name=$1
  # "seeded CREATED FAILED LAST-FAILURE...", split into words
  # shellcheck disable=SC2086
  set -- $line
  if [ $# -lt 3 ]; then
    echo "$name: not measured: it did not answer $BENCH_ITEMS POST /items in 2 s${learner_help}"
    return 1
  fi
  if [ "$2" != "$BENCH_ITEMS" ]; then
    failed=$3
    shift 3
    echo "$name: not measured: of $BENCH_ITEMS POST /items, $failed were not 201 with Location: /items/N (the last: $*)${learner_help}"
    return 1
  fi
}

# express_app -- installs Express if needed (npm, into .workbook/bench/
# express) and sets app to the app.js to run; returns 1 and says what to
# install when Node.js, npm or the registry is missing.
express_app() {
  how="Debian/Ubuntu: sudo apt-get install nodejs npm   Fedora: sudo dnf install nodejs npm   macOS: brew install node"
  if ! command -v node >/dev/null 2>&1; then
    echo "(Node.js is not installed: the bench measures the C servers only. To compare with Express:"
    echo "  $how"
    echo "  Express 5 needs Node.js 18 or later; where the system's is older, NodeSource's packages or nvm have current ones.)"
    return 1
  fi
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 18 ]; then
    echo "(Node.js $(node --version) is too old for Express 5, which needs 18 or later:"
    echo "  NodeSource's packages or nvm have current ones. The bench measures the C servers only.)"
    return 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "(npm is not installed, so Express cannot be: $how)"
    return 1
  fi
  cache=$root/.workbook/bench/express
  mkdir -p "$cache" || return 1
  cp "$here/bench/express/app.js" "$here/bench/express/package.json" \
     "$here/bench/express/package-lock.json" "$cache/" || return 1
  # .installed holds the checksums of what was installed: a changed
  # package.json or lock file installs again.
  (cd "$cache" && cksum package.json package-lock.json) > "$work/want"
  if ! cmp -s "$work/want" "$cache/.installed" || [ ! -f "$cache/node_modules/express/package.json" ]; then
    echo "installing Express with npm into .workbook/bench/express (once) ..."
    rm -f "$cache/.installed"
    if ! (cd "$cache" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) > "$work/npm.log" 2>&1; then
      echo "(npm could not install Express, so it is not measured. npm said:"
      grep -m 4 -E '^npm (error|ERR!)' "$work/npm.log" || tail -n 4 "$work/npm.log"
      echo " Where the registry cannot be reached, set npm's registry option to a mirror.)"
      return 1
    fi
    cp "$work/want" "$cache/.installed"
  fi
  app=$cache/app.js
}

# ---- build ------------------------------------------------------------------

echo "building your restd, the reference's and chapter 2's httpd without sanitizers (-O2) ..."
learner=$(make --no-print-directory -s -C "$here" print-program SAN=0 2>/dev/null) ||
  { echo "your server does not build: make check CHAPTER=rest shows why"; learner=""; }
reference=$(make --no-print-directory -s -C "$here" print-program IMPL=solution SAN=0) || exit 1
httpd=$(make --no-print-directory -s -C "$root/chapters/02-http" print-program IMPL=solution SAN=0) ||
  httpd=""
app=""
express_app || app=""

# ---- start and seed -----------------------------------------------------------

# Every server starts once; then they take turns. "apis" lists the ones
# that passed seeding, as NAME:PORT.
apis=""
for who in reference learner express; do
  case $who in
    express) [ -n "$app" ] || continue
             start express env NODE_ENV=production node "$app" --port 0 || continue ;;
    *)       bin=$reference
             [ "$who" = learner ] && bin=$learner
             [ -n "$bin" ] || continue
             start "$who" "$bin" --port 0 --max-clients 256 || continue ;;
  esac
  learner_help=""
  [ "$who" = learner ] && learner_help="; make check CHAPTER=rest, stage 2, shows why"
  seed "$who" "$port" || { kill "$server" 2>/dev/null; continue; }
  apis="$apis $who:$port"
done

static=""
if [ -n "$httpd" ]; then
  mkdir -p "$work/www"
  head -c 612 /dev/zero | tr '\0' 'x' > "$work/www/index.html"   # 02's small file
  start httpd "$httpd" --root "$work/www" --port 0 --max-clients 256 && static=$port
fi

# ---- measure --------------------------------------------------------------------

# busy -- the percentage of the CPUs in use during 1 s, from /proc/stat
# (Linux; prints nothing elsewhere). Run while the servers sit idle, it is
# what other programs take: they slow the servers down, and the numbers.
busy() {
  [ -r /proc/stat ] || return 0
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
  echo "$a $b" | awk '{ u = $3 - $1; i = $4 - $2; if (u + i > 0) print int(100 * u / (u + i)) }'
}
# warn_busy WHEN -- says so when other programs keep the CPUs busy
warn_busy() {
  others=$(busy)
  if [ -n "$others" ] && [ "$others" -ge 20 ]; then
    echo "(other programs kept $others% of the CPUs busy $1: the numbers are low and uneven;"
    echo " stop them and measure again)"
  fi
}
warn_busy "before the rounds"

# Node.js compiles JavaScript as it runs (a JIT): its first seconds are
# slower. Every API gets the same warm-up, which is not counted.
if [ -n "$apis" ]; then
  echo "warming up: 1 s of each request on each API, not counted ..."
  for s in $apis; do
    port=${s#*:}
    load 1 "$port" /items "$here/bench/get.lua" > /dev/null
    load 1 "$port" /items "$here/bench/post.lua" > /dev/null
  done
fi

r=1
while [ "$r" -le "$rounds" ]; do
  echo "round $r of $rounds ..."
  for s in $apis; do
    who=${s%%:*} port=${s#*:}
    rps "$port" /items "$here/bench/get.lua" >> "$work/$who.get"
    rps "$port" /items "$here/bench/post.lua" >> "$work/$who.post"
  done
  [ -n "$static" ] && rps "$static" /index.html >> "$work/httpd.get"
  r=$((r + 1))
done
warn_busy "after the rounds"

# median FILE: the middle of the numbers in it; "(errors)" when a run had some
median() {
  m=$(sed 's/(errors)//' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  if grep -q errors "$1"; then echo "$m(errors)"; else echo "$m"; fi
}
# value WHO KIND: the median of WHO's KIND (get, post) runs, as a number;
# empty when it was not measured
value() {
  [ -f "$work/$1.$2" ] && median "$work/$1.$2" | sed 's/(errors)//'
}
ratio() {
  if [ -n "$1" ] && [ -n "$2" ]; then
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
  else
    echo "n/a"
  fi
}

echo
wrk_v=$(wrk -v 2>&1 | sed -n '1s/^wrk \([^ ]*\).*/\1/p')
line="wrk ${wrk_v:-?}: 1 thread, $conns keep-alive connections, ${time_s}s per run, median of $rounds rounds"
[ $pinned = 1 ] && line="$line; servers pinned to core 0, wrk to core 1"
echo "$line"
if [ -n "$app" ]; then
  express_v=$(node -p 'require(process.argv[1]).version' "$root/.workbook/bench/express/node_modules/express/package.json")
  echo "express: Express $express_v on Node.js $(node --version), NODE_ENV=production"
fi
printf '%-10s %18s %14s\n' server "GET /items/{id}" "POST /items"
for s in $apis; do
  who=${s%%:*}
  printf '%-10s %18s %14s\n' "$who" "$(median "$work/$who.get")" "$(median "$work/$who.post")"
done
[ -n "$static" ] && printf '%-10s %18s %14s\n' "02 httpd" "$(median "$work/httpd.get")" "(612-byte file)"
echo "(requests/s; POST /items added about that many items per second to each store)"

ref_get=$(value reference get) ref_post=$(value reference post)
lrn_get=$(value learner get) lrn_post=$(value learner post)
exp_get=$(value express get) exp_post=$(value express post)
static_get=$(value httpd get)
echo
if [ -n "$lrn_get" ]; then
  echo "yours / reference:          GET $(ratio "$lrn_get" "$ref_get")   POST $(ratio "$lrn_post" "$ref_post")"
fi
if [ -n "$exp_get" ]; then
  [ -n "$lrn_get" ] &&
    echo "yours / Express:            GET $(ratio "$lrn_get" "$exp_get")   POST $(ratio "$lrn_post" "$exp_post")"
  echo "reference / Express:        GET $(ratio "$ref_get" "$exp_get")   POST $(ratio "$ref_post" "$exp_post")   (the reference aims at 8x or more)"
fi
if [ -n "$static_get" ]; then
  [ -n "$lrn_get" ] &&
    echo "yours GET / 02's small file:      $(ratio "$lrn_get" "$static_get")"
  echo "reference GET / 02's small file:  $(ratio "$ref_get" "$static_get")   (the reference aims at 0.6x or more)"
fi
exit 0
