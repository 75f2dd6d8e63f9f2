#!/usr/bin/env bash
# The uploader benchmark: the same 500-session spool uploaded to the same private s3rver by
# ttyaudit-uploader --once and by `aws s3 cp --recursive` (wall and CPU seconds of each, best of
# ROUNDS), and the live delay from a line being written into a recording session to it being
# readable in the bucket (p50/p95/max, default live_interval_s 2). Writes
# bench/results/uploader.json.
#
# Environment: BUILD (default build), ROUNDS (3), SESSIONS (500), SESSION_BYTES (16384),
# JOBS (10: the aws CLI's default concurrency), LIVE_SECONDS (40), BENCH_OUT.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
UPLOADER=$BUILD/bin/ttyaudit-uploader
[ -x "$UPLOADER" ] || { echo "uploader.sh: $UPLOADER not built" >&2; exit 1; }
[ -x "$ROOT/node_modules/.bin/s3rver" ] || { echo "uploader.sh: s3rver missing (make deps)" >&2; exit 1; }
command -v aws >/dev/null || { echo "uploader.sh: aws CLI missing (make deps)" >&2; exit 1; }

# The test helpers start and stop a private s3rver and write spool sessions.
BENCH_NAME=uploader
. "$ROOT/bench/lib/harness.sh"
. "$ROOT/tests/lib/s3rver.sh"

start_s3rver
make_sessions "$T/template" "${SESSIONS:-500}" "${SESSION_BYTES:-16384}" sealed >/dev/null
write_config "$T/config.json" "$T/spool" "s3://$S3_BUCKET/up"

python3 "$ROOT/bench/uploader_bench.py" \
  --uploader "$UPLOADER" --template "$T/template" --work "$T" --endpoint "$S3_ENDPOINT" \
  --bucket "$S3_BUCKET" --config "$T/config.json" --rounds "${ROUNDS:-3}" --jobs "${JOBS:-10}" \
  --live-seconds "${LIVE_SECONDS:-40}" --out "${BENCH_OUT:-$ROOT/bench/results/uploader.json}"
