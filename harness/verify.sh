#!/bin/sh
# verify.sh CHAPTER_DIR... -- `make test`: verifies the workbook itself.
#
#  1. the harness's own tests, on fixture chapters (harness/tests/run.sh);
#  2. for every chapter: the reference solution passes every test, built
#     with -Werror and AddressSanitizer + UBSan; the untouched stubs compile
#     without warnings and fail every test; the manifest, TODO markers and
#     the files of src/ and solutions/ agree (grade verify);
#  3. threaded chapters ("threaded": true in the manifest): every test
#     passes against the solution built with ThreadSanitizer (make tsan);
#  4. server chapters (LOAD_FLAGS in the Makefile): the solution under
#     hostile load keeps its CPU time and memory within bounds (make load).
# Prints Criterion's Synthesis line of each run. Exit 0 only if all holds.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NO_COLOR=1
failed=0
start=$(date +%s)
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)   # builds use every core
checks_ok=0 checks_bad=0    # for the closing "N passed, N failed" line

# left_running PATTERN -- 0 when no process matches within 3 s; else lists
# and kills them. A program a test started must never outlive its test.
left_running() {
  i=0
  while pgrep -f "$1" >/dev/null 2>&1 && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
  if pgrep -f "$1" >/dev/null 2>&1; then
    echo "  PROBLEM processes left running after the tests:"; pgrep -af "$1" | sed 's/^/    /'
    pkill -9 -f "$1"; return 1
  fi
  return 0
}

# count REPORT STATUS -- how many tests of a report have that status
count() { grep -c "\"status\":[[:space:]]*\"$2\"" "$1" 2>/dev/null || true; }

# the libraries every chapter's Makefile names (PKGS), besides Criterion and cJSON
harness/deps.sh $(for ch in "$@"; do sed -n 's/^PKGS *:= *//p' "$ch/Makefile"; done) || exit 1
grade=$root/.workbook/bin/grade
make --no-print-directory -s -C "${1:-harness/tests/fixtures/pass}" "$grade" || exit 1

echo "== harness self-tests"
harness/tests/run.sh > /tmp/wb-self.$$ 2>&1 || failed=1
cat /tmp/wb-self.$$
n=$(grep -c '^PASS ' /tmp/wb-self.$$); checks_ok=$((checks_ok + n))
n=$(grep -c '^FAIL ' /tmp/wb-self.$$); checks_bad=$((checks_bad + n))
rm -f /tmp/wb-self.$$

for ch in "$@"; do
  ch=${ch%/}
  name=$(basename "$ch")
  echo "== $name"
  ch_start=$(date +%s)

  # The solution, with sanitizers and -Werror.
  if ! make --no-print-directory -s -j"$jobs" -C "$ch" all IMPL=solution SAN=1 >/tmp/wb-build.$$ 2>&1; then
    cat /tmp/wb-build.$$; echo "FAIL $name: the solution does not build"; failed=1; continue
  fi
  sol_prog=$(make --no-print-directory -s -C "$ch" print-program IMPL=solution SAN=1 2>/dev/null)
  sol_tests=$(make --no-print-directory -s -C "$ch" print-tests IMPL=solution SAN=1 2>/dev/null)
  echo "solution:"
  "$grade" run --chapter "$ch" --tests "$sol_tests" --program "$sol_prog" --impl solution \
    --force --quiet --synthesis
  sol_rc=$?
  [ $sol_rc -eq 0 ] || { echo "FAIL $name: the solution does not pass every test"; \
    "$grade" run --chapter "$ch" --tests "$sol_tests" --program "$sol_prog" --impl solution; failed=1; }

  # Threaded chapters: the same tests against the solution built with
  # ThreadSanitizer (make tsan). Any data race fails a test.
  if grep -q '"threaded": *true' "$ch/manifest.json"; then
    echo "solution under ThreadSanitizer:"
    if make --no-print-directory -s -C "$ch" tsan IMPL=solution FORCE=1 GRADE_FLAGS="--quiet --synthesis" \
         >/tmp/wb-tsan.$$ 2>&1; then
      tail -1 /tmp/wb-tsan.$$; checks_ok=$((checks_ok + 1))
    else
      cat /tmp/wb-tsan.$$; echo "FAIL $name: a test fails against the ThreadSanitizer build"
      failed=1; checks_bad=$((checks_bad + 1))
    fi
    rm -f /tmp/wb-tsan.$$
  fi

  # Server chapters: the reference under hostile load, CPU and memory
  # bounded -- in the background: most of its time is waiting (clients
  # that never read, a second of silence, a drain), which the stub checks
  # below fill. Not beside the solution's runs: some of their tests time
  # the server (a page against a lookup), and another program's CPU use
  # would make them flaky. Its verdict is read at the end of the chapter.
  load_pid=""
  if grep -q '^LOAD_FLAGS' "$ch/Makefile"; then
    make --no-print-directory -s -C "$ch" load IMPL=solution >/tmp/wb-load.$$ 2>&1 &
    load_pid=$!
  fi

  # The top-level entry point reaches the same build (CHAPTER=short name).
  short=${name#*-}
  if make --no-print-directory -s check CHAPTER="$short" IMPL=solution >/dev/null 2>&1; then
    checks_ok=$((checks_ok + 1))
  else
    echo "  PROBLEM make check CHAPTER=$short IMPL=solution fails at the top level"; failed=1
    checks_bad=$((checks_bad + 1))
  fi

  # The stubs as committed (a learner's edits in src/ are not the stubs).
  stub_dir=$ch/src
  if git rev-parse --verify -q HEAD >/dev/null 2>&1 && ! git diff --quiet HEAD -- "$ch/src" 2>/dev/null; then
    stub_dir=$root/.workbook/stubs/$name/src
    rm -rf "$stub_dir"; mkdir -p "$stub_dir"
    for f in $(git ls-files "$ch/src"); do git show "HEAD:$f" > "$stub_dir/$(basename "$f")"; done
    echo "($ch/src has changes: checking the stubs as committed in git)"
  fi
  stub_dir=$(cd "$stub_dir" && pwd)
  # A stub build may have come from another STUB_DIR: make compares times,
  # not paths, so start it afresh.
  rm -rf "$root/.workbook/build/$name/stub-san"
  if ! make --no-print-directory -s -j"$jobs" -C "$ch" all IMPL=stub STUB_DIR="$stub_dir" SAN=1 >/tmp/wb-build.$$ 2>&1; then
    cat /tmp/wb-build.$$; echo "FAIL $name: the stubs do not compile without warnings"; failed=1
    [ -z "$load_pid" ] || wait "$load_pid"; continue
  fi
  stub_prog=$(make --no-print-directory -s -C "$ch" print-program IMPL=stub STUB_DIR="$stub_dir" 2>/dev/null)
  stub_tests=$(make --no-print-directory -s -C "$ch" print-tests IMPL=stub STUB_DIR="$stub_dir" 2>/dev/null)
  # No --synthesis here: Criterion's line would count the stubs' expected
  # failures as failures.
  "$grade" run --chapter "$ch" --tests "$stub_tests" --program "$stub_prog" --impl stub \
    --force --quiet
  rc=$?
  [ $rc -le 1 ] || { echo "FAIL $name: the stub run did not complete"; failed=1; }

  for impl in solution-san stub-san; do
    if left_running "$root/.workbook/build/$name/$impl/"; then checks_ok=$((checks_ok + 1))
    else failed=1; checks_bad=$((checks_bad + 1)); fi
  done
  sol_report=.workbook/logs/$name-solution/report.json
  stub_report=.workbook/logs/$name-stub/report.json
  n=$(count "$sol_report" PASSED); checks_ok=$((checks_ok + n))
  n=$(grep -c '"status":' "$sol_report" 2>/dev/null || true); checks_bad=$((checks_bad + n - $(count "$sol_report" PASSED)))
  n=$(count "$stub_report" PASSED); checks_bad=$((checks_bad + n))
  n=$(grep -c '"status":' "$stub_report" 2>/dev/null || true); checks_ok=$((checks_ok + n - $(count "$stub_report" PASSED)))
  echo "stubs: $(( n - $(count "$stub_report" PASSED) )) of $n tests fail, as they must"
  if "$grade" verify --chapter "$ch" --solution "solutions/$name/src" \
    --stub-report "$stub_report" --solution-report "$sol_report"; then
    checks_ok=$((checks_ok + 1))
  else
    failed=1; checks_bad=$((checks_bad + 1))
  fi

  # The reference has exactly the learner's files, and the headers agree.
  for f in $(cd "$ch/src" && ls); do
    [ -f "solutions/$name/src/$f" ] || { echo "  PROBLEM $ch/src/$f has no solutions/$name/src/$f"; failed=1; }
    case $f in *.h)
      cmp -s "$ch/src/$f" "solutions/$name/src/$f" ||
        { echo "  PROBLEM $f differs between $ch/src and solutions/$name/src"; failed=1; } ;;
    esac
  done
  for f in $(cd "solutions/$name/src" && ls); do
    [ -f "$ch/src/$f" ] || { echo "  PROBLEM solutions/$name/src/$f has no $ch/src/$f"; failed=1; }
  done
  if [ -n "$load_pid" ]; then
    if wait "$load_pid"; then
      checks_ok=$((checks_ok + 1))
    else
      failed=1; checks_bad=$((checks_bad + 1))
    fi
    grep -E "^hostile|FAIL|CPU|memory" /tmp/wb-load.$$ | sed 's/^/  /'
    rm -f /tmp/wb-load.$$
  fi
  echo "  ($name: $(( $(date +%s) - ch_start )) s)"
done
rm -f /tmp/wb-build.$$

echo "== $(( $(date +%s) - start )) s"
[ $checks_bad -eq 0 ] || failed=1
if [ $failed -ne 0 ]; then
  echo "make test: FAILED"
else
  echo "make test: every check passed (harness self-tests; each chapter: solution tests, stub tests that must fail, manifest; ThreadSanitizer; hostile load)"
fi
echo "workbook: $checks_ok passed, $checks_bad failed"
exit $failed
