#!/usr/bin/env bash
# `ttyaudit serve` plays a large session in parts; a part after the first starts from the
# keyframe before it (docs/SCREEN.md), so that its first frame is the screen as it was. A host
# session draws a line at the top, keeps it there with a scroll region and prints about 5 MiB
# below it for more than one keyframe interval; the uploader stores it with its keyframes in
# s3rver. In Chromium, the last part's first frame still shows the top line, which was drawn
# only at the start of the session, two parts earlier.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
[ -x /usr/bin/chromium ] || fail "chromium is not installed (make deps)"
[ -d "$ROOT/node_modules/playwright-core" ] || fail "playwright-core is not installed (make deps)"

start_s3rver
write_config "$TTYAUDIT_CONFIG" "$SPOOL" "s3://$S3_BUCKET/audit"
marker="TOP-LINE-DRAWN-AT-THE-START-$$"
cat >"$T/draw.sh" <<SH
printf '\033[2J\033[H%s\n\033[3;24r\033[3;1H' "$marker"
for round in 1 2 3 4 5 6; do
  seq 1 14000 | sed "s/\\\$/ round \$round: a line of filler output below the scroll region/"
  sleep 1.2
done
SH
"$TA" rec -q -- sh "$T/draw.sh" </dev/null >/dev/null 2>&1 || fail "rec failed"
"$BIN/ttyaudit-uploader" --once 2>"$T/uploader.log" || fail "uploader: $(cat "$T/uploader.log")"
id=$("$TA" search --json | jq -r .id)
key=$(bucket_keys audit/sessions/ | grep "$id\.cast\$")
bucket_keys audit/sessions/ | grep -q "$id\.keyframes\.jsonl\$" || fail "no keyframes in the bucket"
size=$(awss3api head-object --bucket "$S3_BUCKET" --key "$key" --query ContentLength --output text)
((size > 4 * 1024 * 1024)) || fail "the session is only $size bytes: want more than two parts"

"$BIN/ttyaudit" serve --store "s3://$S3_BUCKET/audit" --listen 127.0.0.1:0 2>"$T/serve.log" &
track_pid $!
wait_for 20 grep -q "listening on" "$T/serve.log"
url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/serve.log")
parts=$(curl -fsS "$url/api/sessions/$id" | jq -r .parts)
((parts >= 3)) || fail "the session plays in $parts parts, want 3 or more"
# The last part's own bytes do not hold the marker: only its keyframe can put it on screen.
awss3api get-object --bucket "$S3_BUCKET" --key "$key" --range "bytes=$((2 * 2 * 1024 * 1024))-" \
  "$T/tail.cast" >/dev/null
grep -q "$marker" "$T/tail.cast" && fail "the marker is in the last part's own bytes"
curl -fsS "$url/api/sessions/$id/cast?part=$((parts - 1))" | head -c 65536 >"$T/part.cast" || true
grep -q "$marker" "$T/part.cast" || fail "the last part's stream does not start from the keyframe's screen"

SERVE_URL="$url" ID="$id" PART=$((parts - 1)) MARKER="$marker" NODE_PATH="$ROOT/node_modules" \
  node "$ROOT/tests/integration/serve_seek_keyframes.mjs" || fail "the browser check failed"
ok "the last part of a $size-byte session opens on the screen as it was: the top line drawn at its start"
