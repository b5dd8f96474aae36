#!/bin/sh
# deps.sh -- makes sure the libraries the workbook builds with are there.
#
#   harness/deps.sh [PKG...]      check criterion, libcjson and PKG...
#
# Quiet and fast when everything is installed. Otherwise it installs what
# is missing when it can (root, or sudo without a password prompt) with
# apt-get, dnf or brew, and else prints the one command to run and fails.
set -u

want="criterion libcjson $*"
missing=""
command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"
if [ -z "$missing" ]; then
  for p in $want; do
    pkg-config --exists "$p" 2>/dev/null || missing="$missing $p"
  done
fi
command -v cc >/dev/null 2>&1 || missing="$missing cc"
command -v make >/dev/null 2>&1 || missing="$missing make"
[ -z "$missing" ] && exit 0

# pkg-config name -> package name, per package manager
apt_name() {
  case $1 in
    criterion) echo libcriterion-dev ;; libcjson) echo libcjson-dev ;;
    sqlite3) echo libsqlite3-dev ;; libsodium) echo libsodium-dev ;;
    pkg-config) echo pkg-config ;; cc|make) echo build-essential ;; *) echo "$1" ;;
  esac
}
dnf_name() {
  case $1 in
    criterion) echo criterion-devel ;; libcjson) echo cjson-devel ;;
    sqlite3) echo sqlite-devel ;; libsodium) echo libsodium-devel ;;
    pkg-config) echo pkgconf-pkg-config ;; cc) echo gcc ;; *) echo "$1" ;;
  esac
}
brew_name() {
  case $1 in
    libcjson) echo cjson ;; sqlite3) echo sqlite ;; pkg-config) echo pkg-config ;;
    cc|make) echo "" ;; *) echo "$1" ;;
  esac
}

if command -v apt-get >/dev/null 2>&1; then
  pkgs=$(for m in $missing; do apt_name "$m"; done | sort -u | tr '\n' ' ')
  cmd="apt-get update && apt-get install -y $pkgs"
elif command -v dnf >/dev/null 2>&1; then
  pkgs=$(for m in $missing; do dnf_name "$m"; done | sort -u | tr '\n' ' ')
  cmd="dnf install -y $pkgs"
elif command -v brew >/dev/null 2>&1; then
  pkgs=$(for m in $missing; do brew_name "$m"; done | sort -u | tr '\n' ' ')
  cmd="brew install $pkgs"
else
  echo "workbook: missing:$missing -- install them with your package manager (see README.md, Troubleshooting)." >&2
  exit 1
fi

echo "workbook: missing:$missing" >&2
case $cmd in
  brew*) sudo="" ;;
  *) if [ "$(id -u)" = 0 ]; then sudo=""
     elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo "
     else
       echo "workbook: install them with:" >&2
       echo "    sudo sh -c '$cmd'" >&2
       echo "then run the same make command again." >&2
       exit 1
     fi ;;
esac
echo "workbook: installing: $cmd" >&2
if [ -n "$sudo" ]; then
  sudo sh -c "DEBIAN_FRONTEND=noninteractive $cmd" >&2 || exit 1
else
  sh -c "DEBIAN_FRONTEND=noninteractive $cmd" >&2 || {
    echo "workbook: the install failed; run it yourself:  $cmd" >&2; exit 1; }
fi
for p in $want; do
  pkg-config --exists "$p" 2>/dev/null || {
    echo "workbook: $p is still not found by pkg-config after the install (see README.md, Troubleshooting)." >&2
    exit 1
  }
done
echo "workbook: dependencies installed." >&2
