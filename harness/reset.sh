#!/bin/sh
# reset.sh CHAPTER_DIR [STAGE] [YES] -- puts the stubs back.
#
# Copies the learner's current files to .workbook/backups/<chapter>-<time>/
# first, then restores the stub versions committed in git. With a STAGE,
# only that stage's files (from the manifest) are restored -- and the
# message says which other stages live in the same files.
set -eu
ch=$1; stage=${2:-}; yes=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
name=$(basename "$ch")

if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
  echo "reset needs the workbook to be a git checkout (the stubs are restored from git)." >&2
  exit 2
fi

if [ -n "$stage" ]; then
  # the grader's machine output: one path per line
  files=$(.workbook/bin/grade files --chapter "$ch" --stage "$stage" 2>/dev/null)
  [ -n "$files" ] || { echo "No stage $stage in $name (see: make hint CHAPTER=$name)." >&2; exit 2; }
else
  files=$(git ls-files "$ch/src")
fi

echo "This restores the stubs of:"
shared=""
for f in $files; do
  stages=$(git show "HEAD:$f" 2>/dev/null | grep -o 'TODO(stage [0-9]*)' | sed 's/[^0-9]//g' | sort -un | tr '\n' ' ')
  echo "  $f${stages:+   (holds stages: $stages)}"
  for s in $stages; do [ -n "$stage" ] && [ "$s" != "$stage" ] && shared=1; done
done
if [ -n "$shared" ]; then
  echo "These files also hold other stages: your work on those is reset too (it stays in the backup)."
fi

if [ "$yes" != 1 ]; then
  if [ ! -t 0 ]; then
    echo "Not a terminal: run again with YES=1 to confirm." >&2
    exit 2
  fi
  printf "Type yes to go on: "
  read -r answer
  [ "$answer" = yes ] || { echo "Nothing changed."; exit 1; }
fi

backup=".workbook/backups/$name-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$backup"
for f in $files; do
  if [ -f "$f" ]; then
    mkdir -p "$backup/$(dirname "$f")"
    cp -p "$f" "$backup/$f"
  fi
done
for f in $files; do
  git show "HEAD:$f" > "$f.reset-tmp" && mv "$f.reset-tmp" "$f"
done
echo "Restored. Your previous files are in $backup/"
