#!/usr/bin/env bash
# Sealed sessions land at the keys of docs/DESIGN.md (recording, manifest, index entry), `aws s3 cp`
# reads the recording back byte for byte, and the spool is emptied only after that.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
spool="$T/spool"
mapfile -t sessions < <(make_sessions "$spool" 3 20000 sealed)
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/evidence"
cp -a "$spool" "$T/spool.orig"

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once || fail "uploader --once failed"

keys=$(bucket_keys evidence/)
echo "$keys"
for s in "${sessions[@]}"; do
  id=${s%% *} key=${s#* }
  day=${key#sessions/date=}; day=${day%%/*}
  assert_contains "$keys" "evidence/$key" "recording key"
  assert_contains "$keys" "evidence/${key%.cast}.json" "manifest key"
  assert_contains "$keys" "evidence/${key%.cast}.screen.txt" "screen text key"
  assert_contains "$keys" "evidence/${key%.cast}.keyframes.jsonl" "keyframes key"
  assert_contains "$keys" "evidence/index/date=$day/node=node-1/$id.json" "index key"
  awss3 cp "s3://$S3_BUCKET/evidence/$key" "$T/$id.back" >/dev/null
  cmp "$T/$id.back" "$T/spool.orig/$id.cast" || fail "$id.cast differs after aws s3 cp"
  awss3 cp "s3://$S3_BUCKET/evidence/${key%.cast}.json" "$T/$id.manifest" >/dev/null
  cmp "$T/$id.manifest" "$T/spool.orig/$id.json" || fail "$id manifest differs"
  awss3 cp "s3://$S3_BUCKET/evidence/index/date=$day/node=node-1/$id.json" "$T/$id.index" >/dev/null
  assert_eq "$(jq -r .key "$T/$id.index")" "$key" "index entry key"
  assert_eq "$(jq -r .cast_sha256 "$T/$id.index")" "$(sha256sum <"$T/spool.orig/$id.cast" | cut -d' ' -f1)" "index sha256"
  assert_eq "$(jq -r .session.id "$T/$id.index")" "$id" "index session id"
done
assert_eq "$(grep -c '\.sig$' <<<"$keys")" "3" "a signature per session"
assert_eq "$(grep -c '^evidence/keys/.*\.pub$' <<<"$keys")" "1" "the node's public key"
assert_eq "$(grep -Evc '^evidence/(index|screen)-segments/' <<<"$keys")" "19" "six objects per session and the node key"
assert_eq "$(grep -c '^evidence/index-segments/date=.*/hour=.*\.jsonl$' <<<"$keys")" "1" "one index segment, nothing else"
assert_eq "$(bucket_keys evidence/live/)" "" "no live chunks left"
assert_eq "$(ls "$spool" | grep -v '^uploader.status$' || true)" "" "spool emptied"
ok "3 sessions at the right keys, byte-identical through aws s3 cp"
