#!/usr/bin/env bash
# The Kotlin JVM compiler for tests/test_android.py (compiles and tests export/android's core):
# the npm package kotlin-compiler, installed into ~/.cache/edgesal/kotlin (outside the repo).
# Never fails: without npm, network or java the test skips and says why.
set -u
dir="${EDGESAL_KOTLIN_HOME:-$HOME/.cache/edgesal/kotlin}"
[ -x "$dir/node_modules/kotlin-compiler/bin/kotlinc" ] && exit 0
command -v java >/dev/null 2>&1 || echo "kotlin_setup: no java; the Kotlin core test will skip" >&2
if ! command -v npm >/dev/null 2>&1; then
  echo "kotlin_setup: no npm; the Kotlin core test will skip" >&2
  exit 0
fi
mkdir -p "$dir" && cd "$dir" || exit 0
echo "kotlin_setup: npm install kotlin-compiler into $dir" >&2
timeout 600 npm install --no-audit --no-fund --silent --prefix "$dir" kotlin-compiler >/dev/null 2>&1 \
  || echo "kotlin_setup: npm install kotlin-compiler failed (offline?); the Kotlin core test will skip" >&2
exit 0
