#!/usr/bin/env bash
# The one test command (npm test): type-check, then every *.test.ts through node's test runner.
# `npm test -- store/kv` runs only the test files under the given paths.
set -euo pipefail
cd "$(dirname "$0")/.."
roots=(bin lib store registrator proxy-reloader examples integration-tests bench scripts)
if [ $# -gt 0 ]; then roots=("$@"); fi
echo "type-check: tsc --noEmit"
./node_modules/.bin/tsc --noEmit -p .
mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files under ${roots[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-1}" --test-reporter=spec "${files[@]}"
