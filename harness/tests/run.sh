#!/bin/sh
# run.sh -- the harness's own tests: runs `make check` on the fixture
# chapters in fixtures/ and checks the grader's output and exit status.
# Each fixture is a tiny chapter whose tests pass, fail, crash, hang, leave
# a child running, or do not compile.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export WB_HOME; WB_HOME=$(mktemp -d)
export NO_COLOR=1
trap 'rm -rf "$WB_HOME"' EXIT
passed=0 failed=0 out=$WB_HOME/out.txt
command -v pgrep >/dev/null || { echo "run.sh needs pgrep (Debian: apt-get install procps)"; exit 1; }

# check NAME FIXTURE WANT_STATUS PATTERN... -- runs the fixture; every
# PATTERN (a fixed string) must be in the output.
check() {
  name=$1 fixture=$2 want=$3; shift 3
  make --no-print-directory -s -C "$here/fixtures/$fixture" check FORCE=1 >"$out" 2>&1
  status=$?
  ok=1
  [ "$status" -eq "$want" ] || { echo "  expected exit status $want, got $status"; ok=0; }
  for pat in "$@"; do
    grep -qF -- "$pat" "$out" || { echo "  missing in the output: $pat"; ok=0; }
  done
  if [ $ok -eq 1 ]; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/  | /' "$out" | head -60
  fi
}

# No program of a fixture may survive its run.
no_leftovers() {
  sleep_ms=0
  while pgrep -f '/fixprog( |$)' >/dev/null 2>&1 && [ $sleep_ms -lt 3000 ]; do
    sleep 0.1; sleep_ms=$((sleep_ms + 100))
  done
  if pgrep -f '/fixprog( |$)' >/dev/null 2>&1; then
    failed=$((failed + 1)); echo "FAIL $1: processes left running:"; pgrep -af '/fixprog( |$)'
    pkill -9 -f '/fixprog( |$)'
  else
    passed=$((passed + 1)); echo "PASS $1"
  fi
}

check "a passing chapter exits 0 and says so" pass 0 \
  "PASS  stage 1" "2/2 tests" "Every stage passes"
check "an unchanged chapter is not run again" pass 0 \
  "2/2 tests"
make --no-print-directory -s -C "$here/fixtures/pass" check >"$out" 2>&1
if grep -qF "unchanged since the last run" "$out"; then passed=$((passed + 1)); echo "PASS a second run reuses the results"
else failed=$((failed + 1)); echo "FAIL a second run reuses the results"; cat "$out"; fi

check "a failing test shows expected and received bytes, the hint and the rerun command" fail 2 \
  "FAIL  stage 1" "1/2" "expects the wrong answer" 'expected: "pang\n"' 'received: "pong\n"' \
  "Hint: This is the hint" "make check CHAPTER=fixture-fail STAGE=1"
check "a crash in code under test is reported with the sanitizer's report" crash 2 \
  "crashes in code under test (crashed" "runtime error: load of null pointer" "fixlib.c:13" \
  "the program was killed by signal 6" "0/2"
check "a hanging test times out and the others still run" hang 2 \
  "never finishes (timed out)" "1/2"
no_leftovers "a hanging test leaves no process behind"
check "a program that forks is cleaned up after a hang, a crash and a pass" child 2 \
  "hangs with a forked child (timed out)" "crashes with a forked child (crashed" "1/3"
no_leftovers "a forking program leaves no process behind"
check "a compile error stops before the tests and shows the compiler's message" compile-error 2 \
  "fixlib.c" "error:"

echo "harness self-tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
