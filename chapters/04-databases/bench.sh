#!/bin/sh
# bench.sh -- `make bench CHAPTER=databases`: requests per second of your
# restd on SQLite and the reference's, GET /items/{id} and POST /items over
# keep-alive connections (chapter 03's wrk scripts), beside two anchors
# measured in the same rounds on the same disk:
#   - raw inserts: bench/rawinsert.c commits items into the reference's
#     schema with no HTTP at all, one transaction per item as POST does,
#     at synchronous=FULL (the server's) and NORMAL -- what the disk
#     allows; POST /items cannot commit faster without group commit;
#   - chapter 03's reference, the same API with its store in memory: what
#     the database costs a GET.
# Servers run on core 0 and wrk on core 1; each measure is the median of
# BENCH_ROUNDS rounds. The databases live in .workbook/bench (the disk of
# your work, not a tmpfs), removed at the end. It prints the numbers and
# the ratios; it never fails on a slow result.
#
#   BENCH_TIME=3 BENCH_ROUNDS=3 BENCH_CONNS=50 make bench CHAPTER=databases
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
time_s=${BENCH_TIME:-3}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-50}
BENCH_ITEMS=100
export BENCH_ITEMS                  # the Lua scripts read it
lua_dir=$root/chapters/03-rest/bench
work_in=$root/.workbook/bench
learner_help=""

if ! command -v wrk >/dev/null 2>&1; then
  echo "make bench needs wrk, an HTTP load generator:"
  echo "  Debian/Ubuntu: sudo apt-get install wrk   Fedora: sudo dnf install wrk   macOS: brew install wrk"
  exit 2
fi
mkdir -p "$work_in" || exit 1
# shellcheck source=harness/benchlib.sh disable=SC2034 # lua_dir, learner_help: its
. "$root/harness/benchlib.sh"

# ---- build ------------------------------------------------------------------

echo "building your restd, the reference's and chapter 03's without sanitizers (-O2) ..."
learner=$(make --no-print-directory -s -C "$here" print-program SAN=0 2>/dev/null) ||
  { echo "your server does not build: make check CHAPTER=databases shows why"; learner=""; }
reference=$(make --no-print-directory -s -C "$here" print-program IMPL=solution SAN=0) || exit 1
memory=$(make --no-print-directory -s -C "$root/chapters/03-rest" print-program IMPL=solution SAN=0) ||
  memory=""
# shellcheck disable=SC2046 # pkg-config's words are separate flags
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L "$here/bench/rawinsert.c" \
  $(pkg-config --cflags --libs sqlite3) -o "$work/rawinsert" || exit 1

# ---- start and seed -------------------------------------------------------------

apis=""
for who in reference learner memory; do
  case $who in
    reference) bin=$reference ;;
    learner)   bin=$learner
               learner_help="; make check CHAPTER=databases, stage 2, shows why" ;;
    memory)    bin=$memory ;;
  esac
  [ -n "$bin" ] || continue
  if [ "$who" = memory ]; then
    start "$who" "$bin" --port 0 --max-clients 256 || continue
  else
    start "$who" "$bin" --db "$work/$who.db" --port 0 --max-clients 256 || continue
  fi
  seed "$who" "$port" || { kill "$server" 2>/dev/null; continue; }
  apis="$apis $who:$port"
done

# the raw inserts' file: the reference makes and migrates it, then stops
raw=""
if start rawschema "$reference" --db "$work/raw.db" --port 0; then
  kill "$server"
  wait "$server" 2>/dev/null
  raw=$work/raw.db
fi

# ---- measure ----------------------------------------------------------------------

warn_busy "before the rounds"
warm_up
# rawins MODE -- inserts/s of rawinsert on core 0, as the servers run
rawins() {
  if [ $pinned = 1 ]; then set -- taskset -c 0 "$work/rawinsert" "$raw" "$time_s" "$1"
  else set -- "$work/rawinsert" "$raw" "$time_s" "$1"; fi
  "$@" | sed -n 's/^inserts\/s //p'
}

r=1
while [ "$r" -le "$rounds" ]; do
  echo "round $r of $rounds ..."
  api_round
  if [ -n "$raw" ]; then
    rawins full >> "$work/raw.full"
    rawins normal >> "$work/raw.normal"
  fi
  r=$((r + 1))
done
warn_busy "after the rounds"

echo
wrk_line
echo "SQLite $(pkg-config --modversion sqlite3), WAL; the files on $(df -P "$work" | awk 'NR == 2 { print $1 }')"
printf '%-22s %18s %14s\n' server "GET /items/{id}" "POST /items"
for s in $apis; do
  who=${s%%:*}
  label=$who
  [ "$who" = memory ] && label="03 (in memory)"
  printf '%-22s %18s %14s\n' "$label" "$(median "$work/$who.get")" "$(median "$work/$who.post")"
done
if [ -n "$raw" ]; then
  printf '%-22s %18s %14s\n' "raw, synchronous=FULL" "" "$(median "$work/raw.full")"
  printf '%-22s %18s %14s\n' "raw, NORMAL" "" "$(median "$work/raw.normal")"
fi
echo "(requests/s; raw: items/s committed by bench/rawinsert.c, one transaction each)"

ref_get=$(value reference get) ref_post=$(value reference post)
lrn_get=$(value learner get) lrn_post=$(value learner post)
mem_get=$(value memory get)
raw_full=$(value raw full) raw_normal=$(value raw normal)
echo
if [ -n "$lrn_get" ]; then
  echo "yours / reference:                GET $(ratio "$lrn_get" "$ref_get")   POST $(ratio "$lrn_post" "$ref_post")"
  echo "yours POST / raw inserts (FULL):  $(ratio "$lrn_post" "$raw_full")"
fi
echo "reference POST / raw inserts (FULL): $(ratio "$ref_post" "$raw_full")   (the reference aims at 0.5x or more)"
echo "reference GET / 03 in memory:        $(ratio "$ref_get" "$mem_get")   (the reference aims at 0.7x or more)"
echo "raw inserts NORMAL / FULL:           $(ratio "$raw_normal" "$raw_full")   (what a sync per commit costs)"
exit 0
