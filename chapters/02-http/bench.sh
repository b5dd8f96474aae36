#!/bin/sh
# bench.sh -- `make bench CHAPTER=http`: requests per second of your server,
# the reference, and nginx when it is installed, on the same files, each
# pinned to one CPU core (one nginx worker, one core for httpd's threads),
# with wrk on another core. Keep-alive, a small file and a 1 MiB file.
# The servers take turns, BENCH_ROUNDS rounds, and the median of each is
# shown: a virtual machine's speed drifts by 10-20% from one run to the
# next, and a single run of each, one after the other, compares the drift.
# It prints the numbers and the ratios; it never fails on a slow result.
#
#   BENCH_TIME=3 BENCH_ROUNDS=3 BENCH_CONNS=50 make bench CHAPTER=http
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
time_s=${BENCH_TIME:-3}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-50}

if ! command -v wrk >/dev/null 2>&1; then
  echo "make bench needs wrk, an HTTP load generator:"
  echo "  Debian/Ubuntu: sudo apt-get install wrk   Fedora: sudo dnf install wrk   macOS: brew install wrk"
  exit 2
fi
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
pin_server="" pin_client=""
if command -v taskset >/dev/null 2>&1 && [ "$ncpu" -ge 2 ]; then
  pin_server="taskset -c 0" pin_client="taskset -c 1"
fi

work=$(mktemp -d)
# Every server's pid goes into $work/pids (start runs in a subshell, so a
# shell variable would not survive it); all of them stop on exit.
cleanup() {
  [ -f "$work/pids" ] && for p in $(cat "$work/pids"); do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$work/www"
chmod 755 "$work" "$work/www"   # nginx's workers run as an unprivileged user
head -c 612 /dev/zero | tr '\0' 'x' > "$work/www/index.html"   # nginx's default page size
head -c 1048576 /dev/zero | tr '\0' 'y' > "$work/www/big.bin"
chmod 644 "$work/www/index.html" "$work/www/big.bin"

# start NAME CMD... -- runs a server that prints "listening on HOST:PORT"
start() {
  name=$1; shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  echo $! >> "$work/pids"
  i=0
  while ! grep -q '^listening on ' "$work/$name.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "$name did not start: $(cat "$work/$name.err")"; return 1; }
    sleep 0.05
  done
  sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$name.out"
}

# rps PORT PATH -- requests/s that wrk measured; "errors" when some
# answers were not 2xx (then the number means little)
rps() {
  $pin_client wrk -t1 -c"$conns" -d"${time_s}s" "http://127.0.0.1:$1$2" 2>&1 |
    awk '/Requests\/sec/ { r = int($2) } /Non-2xx|Socket errors/ { bad = 1 }
         END { print (bad ? r "(errors)" : r) }'
}

echo "building both servers without sanitizers (-O2) ..."
learner=$(make --no-print-directory -s -C "$here" print-program SAN=0 2>/dev/null) ||
  { echo "your server does not build: make check CHAPTER=http shows why"; learner=""; }
reference=$(make --no-print-directory -s -C "$here" print-program IMPL=solution SAN=0) || exit 1

# Start every server once; then they take turns.
servers=""
for who in reference learner; do
  bin=$(eval echo "\$$who")
  [ -n "$bin" ] || continue
  port=$(start "$who" $pin_server "$bin" --root "$work/www" --port 0 --max-clients 256) || continue
  servers="$servers $who:$port"
done

if command -v nginx >/dev/null 2>&1; then
  nport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18099)
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nport; root $work/www; }
}
CONF
  $pin_server nginx -c "$work/nginx.conf" -p "$work" 2>/dev/null &
  echo $! >> "$work/pids"
  i=0; until wrk -t1 -c1 -d1s "http://127.0.0.1:$nport/index.html" >/dev/null 2>&1 || [ $i -gt 20 ]; do i=$((i+1)); sleep 0.1; done
  servers="$servers nginx:$nport"
else
  echo "(nginx is not installed: apt-get install nginx-light to compare with it)"
fi

r=1
while [ $r -le "$rounds" ]; do
  echo "round $r of $rounds ..."
  for s in $servers; do
    who=${s%%:*} port=${s#*:}
    rps "$port" /index.html >> "$work/$who.small"
    rps "$port" /big.bin >> "$work/$who.big"
  done
  r=$((r + 1))
done

# median FILE: the middle of the numbers in it; "errors" when a run had some
median() {
  grep -q errors "$1" && { echo "$(sed 's/(errors)//' "$1" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')(errors)"; return; }
  sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
results=""
for s in $servers; do
  who=${s%%:*}
  results="$results$who $(median "$work/$who.small") $(median "$work/$who.big")
"
done

echo
echo "wrk: 1 thread, $conns keep-alive connections, ${time_s}s per run, median of $rounds rounds${pin_server:+; servers pinned to core 0, wrk to core 1}"
printf '%-10s %14s %14s\n' server "small req/s" "1MiB req/s"
echo "$results" | while read -r who s b; do [ -n "$who" ] && printf '%-10s %14s %14s\n' "$who" "$s" "$b"; done
ref_s=$(echo "$results" | awk '$1=="reference"{print $2+0}')
lrn_s=$(echo "$results" | awk '$1=="learner"{print $2+0}')
ngx_s=$(echo "$results" | awk '$1=="nginx"{print $2+0}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
echo
[ -n "$lrn_s" ] && echo "yours / reference (small file): $(ratio "$lrn_s" "$ref_s")"
[ -n "$ngx_s" ] && echo "reference / nginx (small file): $(ratio "$ref_s" "$ngx_s")"
[ -n "$ngx_s" ] && [ -n "$lrn_s" ] && echo "yours / nginx (small file):     $(ratio "$lrn_s" "$ngx_s")"
exit 0
