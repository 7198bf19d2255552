#!/usr/bin/env bash
# Install what samsa needs from Debian's packages, only what is missing.
#   scripts/deps.sh build   compiler, CMake, Ninja, python3 (embeds web/) and the -dev libraries
#   scripts/deps.sh test    + the real clients, the browser the tests drive, Node (npm) and the
#                           PostgreSQL server the store's tests start themselves
#   scripts/deps.sh dev     + clang, clang-format, clang-tidy, cppcheck (fuzz, format, lint)
#   scripts/deps.sh compat  + JDK, Maven and venv for `make test-compat` and `make kafka` (the jars,
#                           PyPI clients and npm modules are fetched into ~/.cache/samsa by them; Go
#                           is used when on PATH, Debian's is too old for the Go clients)
# As root it runs apt-get; otherwise it prints the one command to run and exits 1.
set -euo pipefail

build=(gcc cmake ninja-build pkg-config python3 librdkafka-dev libmicrohttpd-dev libjansson-dev
       libcmocka-dev zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev libsqlite3-dev libpq-dev libssl-dev)
test=(kcat python3 python3-kafka python3-confluent-kafka chromium curl procps postgresql openssl)
dev=(clang clang-format clang-tidy cppcheck)
compat=(openjdk-17-jdk-headless maven python3-venv)

want=("${build[@]}")
for group in "$@"; do
  case "$group" in
    build) ;;
    test) want+=("${test[@]}") ;;
    dev) want+=("${test[@]}" "${dev[@]}") ;;
    compat) want+=("${test[@]}" "${compat[@]}") ;;
    *) echo "usage: $0 build|test|dev|compat..." >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The browser test (tests/e2e) runs `npm ci`. Any Node >= 18 will do: a machine that has one
# (Debian's, or NodeSource's nodejs that bundles npm) keeps it; otherwise Debian's nodejs + npm.
if [ "${want[*]}" != "${build[*]}" ] && ! { command -v node && command -v npm; } >/dev/null; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "samsa needs these Debian packages: ${missing[*]}" >&2
  echo "run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
