#!/usr/bin/env bash
# The web viewer's benchmark, measured in Debian's headless Chromium against `ttyaudit serve`
# over s3rver: the first list page over SESSIONS (10,000) sessions (a fresh catalog, then
# warm), the first frame of a BIG_MIB (1024) MiB session, and the live delay (p50/p95) of a
# running session followed from the node's spool and from the bucket's live chunks. Writes bench/results/serve.json.
#
# Environment: BUILD (default build), SESSIONS, BIG_MIB, LIVE_SAMPLES (20), BENCH_OUT.
# A smoke run: SESSIONS=500 BIG_MIB=64 LIVE_SAMPLES=5.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
for b in ttyaudit ttyaudit-uploader ttyaudit-rec; do
  [ -x "$BUILD/bin/$b" ] || { echo "serve.sh: $BUILD/bin/$b not built" >&2; exit 1; }
done
[ -x /usr/bin/chromium ] || { echo "serve.sh: chromium missing (make deps)" >&2; exit 1; }
SESSIONS=${SESSIONS:-10000}
BIG_MIB=${BIG_MIB:-1024}
LIVE_SAMPLES=${LIVE_SAMPLES:-20}

BENCH_NAME=serve
. "$ROOT/bench/lib/harness.sh"
. "$ROOT/tests/lib/s3rver.sh"
export TTYAUDIT_CACHE_DIR="$T/cache" TTYAUDIT_RUN_DIR="$T/run"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

start_s3rver
write_config "$T/s3.json" "$T/spool" "s3://$S3_BUCKET/bench" 1
export TTYAUDIT_CONFIG="$T/s3.json"
t0=$(date +%s)
big_id=$(python3 "$ROOT/bench/serve_bench.py" --work "$T" --sessions "$SESSIONS" --big-mib "$BIG_MIB")
echo "serve.sh: $SESSIONS index entries and a $BIG_MIB MiB session written in $(($(date +%s) - t0)) s"
t0=$(date +%s)
aws --endpoint-url "$S3_ENDPOINT" s3 cp --recursive --quiet "$T/staged" "s3://$S3_BUCKET/bench"
echo "serve.sh: into s3rver in $(($(date +%s) - t0)) s"
t0=$(date +%s)
"$BUILD/bin/ttyaudit" --store "s3://$S3_BUCKET/bench" reindex >/dev/null
rm -rf "$T/cache"  # the viewer's first list reads the segments itself
echo "serve.sh: segments written in $(($(date +%s) - t0)) s"

"$BUILD/bin/ttyaudit" serve --listen 127.0.0.1:0 2>"$T/serve.log" &
track_pid $!
wait_for 20 grep -q "listening on" "$T/serve.log"
url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/serve.log")

# A running session on this node, typed into in tmux: the live page follows it from the spool.
tmux -S "$T/tmux.sock" new-session -d -s live -x 100 -y 30 \
  "'$BUILD/bin/ttyaudit' rec -q -- sh; sleep 600"
track_pid "$(tmux -S "$T/tmux.sock" display-message -p '#{pid}')"  # the tmux server
wait_for 10 bash -c "ls '$T/spool'/*.cast"
live_id=$(basename "$(ls "$T/spool"/*.cast | head -n 1)" .cast)
# The same session from the bucket: the node's uploader ships its live chunks (every
# live_interval_s, 1 s here) and a second viewer reads only the bucket.
"$BUILD/bin/ttyaudit-uploader" 2>"$T/uploader.log" &
track_pid $!
"$BUILD/bin/ttyaudit" serve --store "s3://$S3_BUCKET/bench" --listen 127.0.0.1:0 \
  2>"$T/serve-bucket.log" &
track_pid $!
wait_for 20 grep -q "listening on" "$T/serve-bucket.log"
bucket_url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/serve-bucket.log")
has_chunks() {
  aws --endpoint-url "$S3_ENDPOINT" s3 ls "s3://$S3_BUCKET/bench/live/$live_id/" | grep -q part
}
wait_for 20 has_chunks

SERVE_URL="$url" LIVE_BUCKET_URL="$bucket_url" BIG_ID="$big_id" LIVE_ID="$live_id" LIVE_SAMPLES="$LIVE_SAMPLES" \
  LIVE_TYPE="tmux -S '$T/tmux.sock' send-keys -t live" SESSIONS="$SESSIONS" BIG_MIB="$BIG_MIB" \
  NODE_PATH="$ROOT/node_modules" node "$ROOT/bench/serve_bench.mjs" >"$T/result.json"
out=${BENCH_OUT:-$ROOT/bench/results/serve.json}
jq . "$T/result.json" >"$out"
cat "$out"
