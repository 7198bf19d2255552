#!/usr/bin/env bash
# The command-line contract of `samsa`: --help lists every command, each command's --help shows
# its options with defaults, misuse exits 2 with usage on stderr, --version names librdkafka.
set -euo pipefail
S=${SAMSA:?SAMSA must point at the samsa binary}
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$(mktemp); err=$(mktemp); trap 'rm -f "$out" "$err"' EXIT

"$S" --help >"$out" || fail "--help exited non-zero"
for cmd in broker web worker up topics groups transactions loggen logstat; do
  grep -qE "^  $cmd +" "$out" || fail "--help does not list '$cmd'"
done

"$S" --version >"$out"
grep -qE '^samsa [0-9]+\.[0-9]+\.[0-9]+ \(librdkafka [0-9.]+\)$' "$out" || fail "--version: $(cat "$out")"

set +e
"$S" no-such-command >"$out" 2>"$err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown command exited $rc, want 2"
[ -s "$err" ] && [ ! -s "$out" ] || fail "unknown command: usage must go to stderr only"

"$S" >"$out" 2>"$err" && fail "no command must fail" || true

# Every command documents its options; an unknown option is a usage error (exit 2).
for cmd in up broker web worker topics groups transactions loggen logstat dump-log; do
  "$S" "$cmd" --help >"$out" 2>"$err" || fail "$cmd --help failed: $(cat "$err")"
  grep -q "^usage: samsa $cmd" "$out" || fail "$cmd --help has no usage line"
  grep -q -- "-h, --help" "$out" || fail "$cmd --help does not list --help"
  set +e
  "$S" "$cmd" --no-such-option >"$out" 2>"$err"; rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$cmd --no-such-option exited $rc, want 2"
  grep -q "no-such-option" "$err" || fail "$cmd: the error does not name the bad option"
done
"$S" --help | grep -q "not built" && fail "--help still speaks of commands not built yet"

"$S" up --help | grep -q -- "--work-ms MS" || fail "up --help lacks --work-ms"
"$S" up --help | grep -q "(default: 127.0.0.1:8080)" || fail "up --help lacks the --http default"
# docs/configuration.md is generated from the same option tables; it must not drift from them.
# `make run` builds only the binary it runs (the test programs are about half the build).
if [ -n "${SAMSA_SOURCE_DIR:-}" ]; then
  make -n -C "$SAMSA_SOURCE_DIR" run BUILD=build-x >"$out" 2>&1 || fail "make -n run: $(cat "$out")"
  grep -q -- "cmake --build build-x --target samsa" "$out" || fail "make run does not build only samsa: $(cat "$out")"
  grep -E -- "cmake --build build-x( |$)" "$out" | grep -qv -- "--target" &&
    fail "make run builds everything: $(cat "$out")"
  "$S" config-docs >"$out"
  diff -u "$SAMSA_SOURCE_DIR/docs/configuration.md" "$out" >"$err" ||
    fail "docs/configuration.md is out of date: run 'make docs' ($(head -c 600 "$err"))"
fi
echo "0001-cli: ok"
