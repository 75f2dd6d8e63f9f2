#!/usr/bin/env bash
# `make bench`: runs every benchmark script bench/*.sh (but this one), each in turn, so that they do
# not disturb one another's timings. A failing script does not stop the rest; the exit status says
# whether all of them passed. BENCH_ONLY="rec uploader" runs just those.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-build}
failed=()
for script in "$ROOT"/bench/*.sh; do
  name=$(basename "$script" .sh)
  [ "$name" = run ] && continue
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then continue; fi
  echo "== bench/$name.sh ($(date -u +%H:%M:%S))"
  if ! (cd "$ROOT" && bash "$script"); then
    echo "== bench/$name.sh FAILED" >&2
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
