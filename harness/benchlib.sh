# benchlib.sh -- what the chapters' bench.sh scripts share (sourced, not
# run): pinning servers to core 0 and wrk to core 1, a work folder removed
# on exit with every server stopped, starting a server and waiting for its
# "listening on" line, wrk runs and their requests/s, seeding items through
# the API (chapters/03-rest/bench/seed.lua), the CPU use of other programs,
# medians and ratios. The caller sets, before it sources this:
#   here      its chapter's folder
#   conns     wrk's connections; time_s: seconds per run; rounds: runs
#   apis      the servers measured, NAME:PORT words (warm_up, api_round)
#   lua_dir   the folder of seed.lua (BENCH_ITEMS in the environment)
#   work_in   where the work folder goes (default: $TMPDIR or /tmp)
# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with the caller

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

work=$(mktemp -d "${work_in:-${TMPDIR:-/tmp}}/bench.XXXXXX") || exit 1
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
  line=$(on_client wrk -t1 -c1 -d2s -s "$lua_dir/seed.lua" "http://127.0.0.1:$2/items" 2>&1 |
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
# ratio A B: A / B as "1.23x"; "n/a" when one is missing
ratio() {
  if [ -n "$1" ] && [ -n "$2" ]; then
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
  else
    echo "n/a"
  fi
}

# warm_up -- 1 s of GET /items/{id} and of POST /items on each server of
# $apis (NAME:PORT words), not counted: a JIT compiles, caches fill
warm_up() {
  [ -n "$apis" ] || return 0
  echo "warming up: 1 s of each request on each server, not counted ..."
  for s in $apis; do
    port=${s#*:}
    load 1 "$port" /items "$lua_dir/get.lua" > /dev/null
    load 1 "$port" /items "$lua_dir/post.lua" > /dev/null
  done
}

# api_round -- one run of GET /items/{id} and one of POST /items on each
# server of $apis, their requests/s added to $work/NAME.get and .post
api_round() {
  for s in $apis; do
    who=${s%%:*} port=${s#*:}
    rps "$port" /items "$lua_dir/get.lua" >> "$work/$who.get"
    rps "$port" /items "$lua_dir/post.lua" >> "$work/$who.post"
  done
}

# wrk_line -- how the numbers were made: wrk's version, its connections,
# the time per run, the rounds, the pinning
wrk_line() {
  wrk_v=$(wrk -v 2>&1 | sed -n '1s/^wrk \([^ ]*\).*/\1/p')
  line="wrk ${wrk_v:-?}: 1 thread, $conns keep-alive connections, ${time_s}s per run, median of $rounds rounds"
  [ $pinned = 1 ] && line="$line; servers pinned to core 0, wrk to core 1"
  echo "$line"
}
