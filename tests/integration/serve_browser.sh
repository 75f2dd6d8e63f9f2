#!/usr/bin/env bash
# `ttyaudit serve` over an S3 bucket (s3rver), in Debian's headless Chromium: sessions recorded
# for real (an interactive `ctr task exec -t` through ttyaudit-runtime and containerd, a host
# `rec`, and an exec into a pod whose name is markup and whose output is script, a title and a
# clipboard write) are listed, filtered by pod and command, browsed by date, namespace and pod
# with counts, replayed to their final screen, sought from the command timeline and
# downloaded; the hostile one runs no script and opens no dialog. The screenshots go to
# docs/images/ (README.md, "Web viewer").
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
[ -x /usr/bin/chromium ] || fail "chromium is not installed (make deps)"
[ -d "$ROOT/node_modules/playwright-core" ] || fail "playwright-core is not installed (make deps)"
require_tracking

start_s3rver
start_ttyaudit_containerd "\"store\": \"s3://$S3_BUCKET/audit\"" "\"live_interval_s\": 1" \
  "\"s3\": {\"endpoint\": \"$S3_ENDPOINT\", \"region\": \"us-east-1\", \"path_style\": true, \"access_key_id\": \"S3RVER\", \"secret_access_key\": \"S3RVER\"}"

# 1. An interactive exec in pod payments/web-7d9f8-abcde, typed in tmux.
ctr_run_bg web-1 "$T/rootfs" "$BIN/ttyaudit-runtime" \
  --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-id=0123456789abcdef \
  --annotation io.kubernetes.cri.sandbox-namespace=payments \
  --annotation io.kubernetes.cri.sandbox-name=web-7d9f8-abcde \
  --annotation io.kubernetes.cri.container-name=nginx \
  --annotation io.kubernetes.cri.image-name=docker.io/library/nginx:1.25 \
  -- sleep 1000
drive_tty_script tty "ctr --address '$CTR_SOCK' -n '$CTR_NS' task exec --fifo-dir '$T/containerd/fifo' --exec-id x-tty -t web-1 sh"
tty_id=$(terminal_sessions | head -n 1)
[[ -n $tty_id ]] || fail "the interactive exec was not recorded"
wait_sealed "$tty_id"
day=$(date -u -d "@$(($(session_meta "$tty_id" | jq -r .start_ns) / 1000000000))" +%F)

# 2. A pod named like markup, whose exec prints a script, a window title and a clipboard write.
hostile_pod='<img src=x onerror=window.__pwned=1;alert(1)>'
ctr_run_bg evil "$T/rootfs" "$BIN/ttyaudit-runtime" \
  --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-id=fedcba9876543210 \
  --annotation io.kubernetes.cri.sandbox-namespace=payments \
  --annotation "io.kubernetes.cri.sandbox-name=$hostile_pod" \
  --annotation io.kubernetes.cri.container-name=evil \
  -- sleep 1000
ctr_exec_tty evil x-evil sh -c 'printf "<script>window.__pwned=2;alert(2)</script>\n\033]0;pwned-title\007\033]52;c;cHduZWQ=\007\033]8;;javascript:alert(3)\007link\033]8;;\007\nhostile-done\n"' >/dev/null
hostile_id=$(session_with_argv "hostile-done")
[[ -n $hostile_id ]] || fail "the hostile exec was not recorded"
wait_sealed "$hostile_id"

# 3. A host session.
"$BIN/ttyaudit" rec -q -- sh -c 'echo host-needle-$((2*3))' </dev/null >/dev/null
host_id=$(session_with_argv "host-needle")
[[ -n $host_id ]] || fail "the host session was not recorded"

"$BIN/ttyaudit-uploader" --once || fail "uploader --once failed"
[[ -z $(ls "$SPOOL"/*.cast 2>/dev/null) ]] || fail "the spool still holds sessions after upload"
before=$(bucket_keys | grep -v "^audit/live/" | md5sum)

# serve reads only the bucket (the spool is empty anyway), on a free port.
"$BIN/ttyaudit" serve --store "s3://$S3_BUCKET/audit" --listen 127.0.0.1:0 2>"$T/serve.log" &
track_pid $!
wait_for 20 grep -q "listening on" "$T/serve.log"
url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/serve.log")
curl -fsS "$url/api/sessions" | jq -e '.sessions | length == 3' >/dev/null ||
  fail "the API does not list the 3 sessions: $(curl -sS "$url/api/sessions" | head -c 500)"

# A running host session, typed into in tmux: followed live from the bucket's live chunks (the
# uploader running, serve reading only the bucket), then from this node's spool (a second
# serve, without --store), where it ends and the page becomes its replay.
tmx new-session -d -s live -x 100 -y 30 "'$BIN/ttyaudit' rec -q -- sh; sleep 600"
wait_for 10 bash -c "ls '$SPOOL'/*.cast"
live_id=$(basename "$(ls "$SPOOL"/*.cast | head -n 1)" .cast)
"$BIN/ttyaudit-uploader" 2>"$T/uploader.log" &
track_pid $!
live_chunks() { [[ -n $(bucket_keys "audit/live/$live_id/") ]]; }
wait_for 15 live_chunks
"$BIN/ttyaudit" serve --listen 127.0.0.1:0 2>"$T/serve-spool.log" &
track_pid $!
wait_for 20 grep -q "listening on" "$T/serve-spool.log"
spool_url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/serve-spool.log")
live_type="tmux -S '$TMUX_SOCK' send-keys -t live"

# The day holds the three sealed sessions and the running one (search lists the bucket's
# running sessions from their live chunks).
sessions_json=$(jq -n -c --arg tty "$tty_id" --arg host "$host_id" --arg hostile "$hostile_id" \
  --arg pod web-7d9f8-abcde --arg hp "$hostile_pod" --arg day "$day" '{
    all: [$tty, $host, $hostile], tty: $tty, host: $host, hostile: $hostile,
    pod: $pod, namespace: "payments", container: "nginx", command: "host-needle",
    date: $day, date_count: 4, screen: ["typed-42", "after-2-ctrl-c"], seek_command: "sleep 30",
    hostile_pod: $hp}')
SERVE_URL="$url" SESSIONS="$sessions_json" SHOTS="$ROOT/docs/images" \
  LIVE_ID="$live_id" LIVE_TYPE="$live_type" LIVE_LIMIT_MS=3000 \
  NODE_PATH="$ROOT/node_modules" node "$ROOT/tests/integration/serve_browser.mjs" ||
  fail "the browser checks failed (serve log: $(tail -n 5 "$T/serve.log"))"
ok "list, filters, browse, replay, timeline, download, the hostile session and live from the bucket, in Chromium"
# The store was only read: no object was written or removed while serve ran (but the live
# chunks of the running session, which the uploader writes). Checked before the session ends.
curl -fsS "$url/api/sessions/$tty_id/download" >/dev/null
assert_eq "$(bucket_keys | grep -v "^audit/live/" | md5sum)" "$before" "bucket keys after serving"
SERVE_URL="$spool_url" SESSIONS="$sessions_json" SHOTS="$ROOT/docs/images" LIVE_ONLY=1 \
  LIVE_ID="$live_id" LIVE_TYPE="$live_type" LIVE_LIMIT_MS=1000 LIVE_SHOT=serve-live \
  LIVE_END="$live_type 'exit' Enter" \
  NODE_PATH="$ROOT/node_modules" node "$ROOT/tests/integration/serve_browser.mjs" ||
  fail "the live checks from the spool failed (serve log: $(tail -n 5 "$T/serve-spool.log"))"
ok "live from the spool within 1 s, and the live page turns into the replay when it ends"
