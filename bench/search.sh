#!/usr/bin/env bash
# The search benchmark: `ttyaudit search --command 'rm -rf' --json` over a local archive of
# LOCAL_SESSIONS sessions (100,000) and an s3rver bucket of S3_SESSIONS (10,000), through the
# catalog (the first search after the index segments exist, with no cache yet, then a repeat)
# beside the same query by brute force (`search --scan`: every per-session index entry), and
# the cost of keeping the catalog per sealed session (uploader and sync) in archives of
# COST_SMALL and COST_LARGE sessions; and `search --text` over TEXT_SESSIONS sessions of
# TEXT_BYTES of output each (10,000 of 100 KB), sealed by the uploader (which makes their screen
# text with the terminal emulator), beside `search --scan --text`. Writes
# bench/results/search.json.
#
# Environment: BUILD (default build), LOCAL_SESSIONS (100000), S3_SESSIONS (10000),
# COST_SMALL (1000), COST_LARGE (100000), COST_BATCH (200), TEXT_SESSIONS (10000),
# TEXT_BYTES (100000), ROUNDS (3), BENCH_OUT. A smoke run: LOCAL_SESSIONS=2000 S3_SESSIONS=500
# COST_SMALL=200 COST_LARGE=2000 COST_BATCH=50 TEXT_SESSIONS=200.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
for b in ttyaudit ttyaudit-uploader; do
  [ -x "$BUILD/bin/$b" ] || { echo "search.sh: $BUILD/bin/$b not built" >&2; exit 1; }
done
[ -x "$ROOT/node_modules/.bin/s3rver" ] || { echo "search.sh: s3rver missing (make deps)" >&2; exit 1; }
command -v aws >/dev/null || { echo "search.sh: aws CLI missing (make deps)" >&2; exit 1; }

BENCH_NAME=search
. "$ROOT/bench/lib/harness.sh"
. "$ROOT/tests/lib/s3rver.sh"
. "$ROOT/tests/lib/catalog.sh"

start_s3rver
write_config "$T/s3.json" "$T/spool-s3" "s3://$S3_BUCKET/bench"
python3 "$ROOT/bench/search_bench.py" --bin "$BUILD/bin" --work "$T" \
  --endpoint "$S3_ENDPOINT" --bucket "$S3_BUCKET" --s3-config "$T/s3.json" \
  --local "${LOCAL_SESSIONS:-100000}" --s3 "${S3_SESSIONS:-10000}" \
  --cost-small "${COST_SMALL:-1000}" --cost-large "${COST_LARGE:-100000}" \
  --cost-batch "${COST_BATCH:-200}" --rounds "${ROUNDS:-3}" \
  --text-sessions "${TEXT_SESSIONS:-10000}" --text-bytes "${TEXT_BYTES:-100000}" \
  --make-sessions "$ROOT/tests/lib/catalog.sh" \
  --out "${BENCH_OUT:-$ROOT/bench/results/search.json}"
