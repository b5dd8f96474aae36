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
  if grep -q '\*\*\*' "$out"; then echo "  make's '***' lines in the output"; ok=0; fi
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

check "a failing test shows expected and received bytes, the hint and the rerun command" fail 1 \
  "FAIL  stage 1" "1/2" "expects the wrong answer" 'expected: "pang\n"' 'received: "pong\n"' \
  "Hint: This is the hint" "make check CHAPTER=fixture-fail STAGE=1"
check "the stage the learner is on runs first, its verdict before the other stages" fail 1 \
  "stage 1: 1/2 tests" "Now the other stages..." "2/3 tests, 1/2 stages" "Stage 1's failures are above."
check "a crash in code under test is reported with the sanitizer's report" crash 1 \
  "crashes in code under test (crashed" "runtime error: load of null pointer" "fixlib.c:13" \
  "the program was killed by signal 6" "0/2"
check "a hanging test times out and the others still run" hang 1 \
  "never finishes (timed out)" "1/2"
no_leftovers "a hanging test leaves no process behind"
check "a program that forks is cleaned up after a hang, a crash and a pass" child 1 \
  "hangs with a forked child (timed out)" "crashes with a forked child (crashed" "1/3"
no_leftovers "a forking program leaves no process behind"
check "a compile error stops before the tests and shows the compiler's message" compile-error 1 \
  "fixlib.c" "error:" "The build failed"

# ok NAME CONDITION-STATUS -- records a check done by hand ($out is shown on failure).
ok() {
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1"
  else failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  | /' "$out" | head -60; fi
}
# has PATTERN... -- 0 when every fixed string is in $out
has() { for pat in "$@"; do grep -qF -- "$pat" "$out" || { echo "  missing: $pat"; return 1; }; done; }
fx() { f=$1; shift; make --no-print-directory -s -C "$here/fixtures/$f" "$@" >"$out" 2>&1; }

# Results are reused by content: a touched file rebuilds the same bytes.
touch "$here/fixtures/pass/tests/basics.c"
fx pass check; st=$?
has "unchanged since the last run"; ok "touching a file without changing it reuses the results" $(( st + $? ))

fx pass hint; st=$?
has "no hint left to give" "make compare CHAPTER=fixture-pass"
ok "make hint when every stage passes says so and points on" $(( st + $? ))

# OWN=1 builds on the learner's own earlier layer (fixtures/own/layers/mine).
fx own check OWN=0 FORCE=1; st=$?
has "built on: the reference's 00-base (base)" "built on the layer that says \"reference\""
ok "OWN=0 builds on the reference's earlier layer" $(( (st != 1) + $? ))
fx own check OWN=1; st=$?
has "built on: your 00-base (base)" "whose stage 1 does not pass yet" "2/2 tests"
ok "OWN=1 builds on the learner's layer and warns while that chapter is not green" $(( st + $? ))

# make compare: refuses before the stage passes, shows the diff after.
WB_HOME=$WB_HOME/fresh fx own compare STAGE=1; st=$?
has "has not passed yet" "does not give the stage away" "Hint: This is the hint"
ok "make compare before a stage passes refuses and gives the hint" $(( (st != 1) + $? ))
fx own compare STAGE=1; st=$?
has "What to look for: This is the note" "--- yours: greet()" "+++ reference: greet()" "+    (void)n;"
ok "make compare after a stage passes shows the learner's function beside the reference's" $(( st + $? ))

# Stopping make check in the middle (Ctrl-C or a signal) stops the tests
# and every program they started.
make --no-print-directory -s -C "$here/fixtures/hang" check FORCE=1 >"$out" 2>&1 &
check_pid=$!
# (the tests run: Criterion's process is there -- not only a build)
i=0; while ! pgrep -f 'hang/learner-san/tests/run-tests' >/dev/null && [ $i -lt 200 ]; do
  sleep 0.05; i=$((i + 1)); done
pkill -TERM -f "^[^ ]*/grade run --chapter $here/fixtures/hang"
wait $check_pid; st=$?
has "Stopped."
ok "make check stopped by a signal says so and exits non-zero" $(( (st == 0) + $? ))
no_leftovers "make check stopped by a signal leaves no process behind"

# make watch: reruns when a file of src/ is saved; stops without leftovers.
greet=$here/fixtures/own/src/greet.c
cp "$greet" "$WB_HOME/greet.c"
make --no-print-directory -s -C "$here/fixtures/own" watch OWN=1 >"$out" 2>&1 &
watch_pid=$!
boards() { grep -c "watching .* for changes" "$out"; }
i=0; while [ "$(boards)" -lt 1 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "/* saved */" >> "$greet"
i=0; while [ "$(boards)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
cp "$WB_HOME/greet.c" "$greet"
st=0; [ "$(boards)" -ge 2 ] || st=1
pkill -TERM -f "^[^ ]*/grade watch --chapter $here/fixtures/own"
wait $watch_pid; st=$((st + $?))
has "watch: stopped."
ok "make watch reruns the checks when a file is saved and stops on a signal" $(( st + $? ))
no_leftovers "make watch leaves no process behind"
if pgrep -f "grade watch" >/dev/null; then
  failed=$((failed + 1)); echo "FAIL make watch itself is still running"; pkill -9 -f "grade watch"
fi

echo "harness self-tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
