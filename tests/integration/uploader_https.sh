#!/usr/bin/env bash
# Over HTTPS the uploader trusts the configured CA bundle (s3.ca_file) and nothing else: with
# the right CA the session arrives; with the system's CAs only, the certificate is refused and
# the session stays in the spool.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

S3RVER_TLS=1 start_s3rver
[[ $S3_ENDPOINT == https://* ]] || fail "s3rver is not serving HTTPS"
spool="$T/spool"
read -r id key < <(make_sessions "$spool" 1 5000 sealed)
cp "$spool/$id.cast" "$T/orig.cast"
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET"

if TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once 2>"$T/untrusted.log"; then
  fail "uploaded to a server whose certificate no configured CA signed"
fi
grep -qi "ssl\|certificate" "$T/untrusted.log" || { cat "$T/untrusted.log"; fail "error does not name TLS"; }
[ -f "$spool/$id.cast" ] || fail "session left the spool without an upload"

jq --arg ca "$T/ca.pem" '.s3.ca_file = $ca' "$T/config.json" >"$T/c2" && mv "$T/c2" "$T/config.json"
TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once || fail "upload with the CA failed"
AWS_CA_BUNDLE="$T/ca.pem" awss3 cp "s3://$S3_BUCKET/$key" "$T/back.cast" >/dev/null
cmp "$T/back.cast" "$T/orig.cast" || fail "differs after an HTTPS round trip"
ok "HTTPS with the configured CA; refused without it"
