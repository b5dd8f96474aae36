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
lua_dir=$here/bench   # benchlib.sh's seed() reads it

if ! command -v wrk >/dev/null 2>&1; then
  echo "make bench needs wrk, an HTTP load generator:"
  echo "  Debian/Ubuntu: sudo apt-get install wrk   Fedora: sudo dnf install wrk   macOS: brew install wrk"
  exit 2
fi

# shellcheck source=harness/benchlib.sh disable=SC2034 # lua_dir, learner_help: its
. "$root/harness/benchlib.sh"

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

warn_busy "before the rounds"

# Node.js compiles JavaScript as it runs (a JIT): its first seconds are
# slower. Every API gets the same warm-up, which is not counted.
warm_up

r=1
while [ "$r" -le "$rounds" ]; do
  echo "round $r of $rounds ..."
  api_round
  [ -n "$static" ] && rps "$static" /index.html >> "$work/httpd.get"
  r=$((r + 1))
done
warn_busy "after the rounds"


echo
wrk_line
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
