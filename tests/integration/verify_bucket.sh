#!/usr/bin/env bash
# `ttyaudit verify` (and `search --verify`) against a bucket: sessions shipped by the uploader
# verify with the key it published there; a recording edited in the bucket is reported; and with
# Object Lock in the config, objects without it are reported. (s3rver keeps no Object Lock: it
# accepts the lock headers on PUT but returns none on HEAD, so here that part is tested as a
# missing lock.)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
write_config "$TTYAUDIT_CONFIG" "$SPOOL" "s3://$S3_BUCKET/audit"
for i in 1 2; do
  "$TA" rec -q -- sh -c "echo bucket-session-$i; sleep 0.1" </dev/null >/dev/null 2>&1 ||
    fail "rec $i failed"
done
"$BIN/ttyaudit-uploader" --once 2>"$T/uploader.log" || fail "uploader: $(cat "$T/uploader.log")"
assert_eq "$(bucket_keys audit/keys/ | wc -l)" 1 "the node key is published in the bucket"
"$TA" verify --all >"$T/out" || fail "untouched bucket: $(cat "$T/out")"
assert_eq "$(grep -c '^OK' "$T/out")" 2 "both sessions verified with the bucket's key"
# search says what the uploader recorded; search --verify proves it.
assert_eq "$("$TA" search --json | jq -r .evidence | sort -u)" "signed" "search's evidence"
assert_eq "$("$TA" search --verify --json | jq -r .evidence | sort -u)" "verified" \
  "search --verify's evidence"
ok "sessions in the bucket verify"

key=$(bucket_keys audit/sessions/ | grep '\.cast$' | head -n1)
id=$(basename "$key" .cast)
awss3 cp "s3://$S3_BUCKET/$key" "$T/edit.cast" >/dev/null
sed -i 's/bucket-session-/bucket-sessioN-/' "$T/edit.cast"
awss3 cp "$T/edit.cast" "s3://$S3_BUCKET/$key" >/dev/null
set +e
"$TA" verify --all >"$T/out" 2>&1; rc=$?
"$TA" verify "$id" >"$T/out1" 2>&1; rc1=$?
set -e
assert_eq "$rc" 1 "verify --all exit status after an edit in the bucket"
assert_eq "$rc1" 1 "verify ID exit status after an edit in the bucket"
grep -A3 "^FAILED   $id" "$T/out" | grep -q "does not match its chain line" ||
  fail "the edited session is not reported: $(cat "$T/out")"
assert_eq "$(grep -c '^OK' "$T/out")" 1 "the other session still verifies"
set +e
"$TA" search --verify --json >"$T/search.json" 2>"$T/search.err"; rc=$?
set -e
assert_eq "$rc" 1 "search --verify exit status after an edit in the bucket"
assert_eq "$(jq -r --arg id "$id" 'select(.id == $id) | .evidence' "$T/search.json")" "failed" \
  "search --verify's evidence for the edited session"
assert_eq "$(jq -r --arg id "$id" 'select(.id != $id) | .evidence' "$T/search.json")" "verified" \
  "search --verify's evidence for the other session"
grep -q "^ttyaudit search: $id: .*does not match its chain line" "$T/search.err" ||
  fail "search --verify does not say why: $(cat "$T/search.err")"
"$TA" search --verify >"$T/table" 2>/dev/null || true
grep "${id:0:8}" "$T/table" | grep -q failed || fail "the table does not show failed: $(cat "$T/table")"
ok "a recording edited in the bucket is reported, by verify and by search --verify"

python3 - "$TTYAUDIT_CONFIG" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["s3"]["object_lock"] = {"mode": "GOVERNANCE", "days": 1}
json.dump(c, open(sys.argv[1], "w"))
PY
"$TA" rec -q -- sh -c "echo locked-session" </dev/null >/dev/null 2>&1 || fail "rec failed"
"$BIN/ttyaudit-uploader" --once 2>"$T/uploader2.log" || fail "uploader: $(cat "$T/uploader2.log")"
set +e
"$TA" verify --all >"$T/out" 2>&1; rc=$?
set -e
assert_eq "$rc" 1 "verify exit status when Object Lock is configured but missing"
assert_contains "$(cat "$T/out")" "has no Object Lock (configured: GOVERNANCE for 1 days)"
ok "objects without the configured Object Lock are reported"
