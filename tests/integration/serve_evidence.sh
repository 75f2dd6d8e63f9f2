#!/usr/bin/env bash
# `ttyaudit serve` shows each session's evidence as `ttyaudit verify` finds it: two sessions
# recorded and signed by the uploader into s3rver, one of them then edited in the bucket. In
# Chromium the list and the replay page say the untouched one is verified and the edited one
# FAILED, with verify's reason, as text. All of it under serve's sandbox (sandbox/profiles.h):
# NoNewPrivs 1, its seccomp filter, no capability; it must still be alive at the end.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/sandbox.sh"
command -v capsh >/dev/null || fail "capsh not installed (libcap2-bin, make deps)"
[ -x /usr/bin/chromium ] || fail "chromium is not installed (make deps)"
[ -d "$ROOT/node_modules/playwright-core" ] || fail "playwright-core is not installed (make deps)"

start_s3rver
write_config "$TTYAUDIT_CONFIG" "$SPOOL" "s3://$S3_BUCKET/audit"
for i in 1 2; do
  "$TA" rec -q -- sh -c "echo evidence-session-$i; sleep 0.1" </dev/null >/dev/null 2>&1 ||
    fail "rec $i failed"
done
"$BIN/ttyaudit-uploader" --once 2>"$T/uploader.log" || fail "uploader: $(cat "$T/uploader.log")"
key=$(bucket_keys audit/sessions/ | grep '\.cast$' | head -n1)
bad=$(basename "$key" .cast)
good=$(bucket_keys audit/sessions/ | grep '\.cast$' | grep -v "$bad" | xargs basename | sed 's/\.cast$//')
awss3 cp "s3://$S3_BUCKET/$key" "$T/edit.cast" >/dev/null
sed -i 's/evidence-session-/evidence-sessioN-/' "$T/edit.cast"
awss3 cp "$T/edit.cast" "s3://$S3_BUCKET/$key" >/dev/null
"$TA" verify "$bad" >/dev/null 2>&1 && fail "verify passes the edited session"

"$BIN/ttyaudit" serve --store "s3://$S3_BUCKET/audit" --listen 127.0.0.1:0 2>"$T/serve.log" &
serve=$!
track_pid $serve
wait_for 20 grep -q "listening on" "$T/serve.log"
grep -q "all its privileges" "$T/serve.log" && fail "serve did not enter its sandbox: $(cat "$T/serve.log")"
assert_sandboxed "$serve" "ttyaudit serve" ""
url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/serve.log")
verdicts=$(curl -fsS "$url/api/verify?ids=$good,$bad")
assert_eq "$(jq -r --arg id "$good" '.verdicts[] | select(.id==$id) | .state' <<<"$verdicts")" \
  verified "the untouched session's state"
assert_eq "$(jq -r --arg id "$bad" '.verdicts[] | select(.id==$id) | .state' <<<"$verdicts")" \
  failed "the edited session's state"
assert_contains "$verdicts" "does not match its chain line"

SERVE_URL="$url" GOOD="$good" BAD="$bad" NODE_PATH="$ROOT/node_modules" \
  node "$ROOT/tests/integration/serve_evidence.mjs" || fail "the browser checks failed"
kill -0 "$serve" 2>/dev/null || fail "serve died under its sandbox: $(dmesg | grep 'syscall=' | tail -n 3)"
ok "the list and the replay page show verified and FAILED (with the reason) as verify finds them, sandboxed"
