#!/usr/bin/env bash
# A spool with 500 sealed sessions drains completely: 500 recordings, 500 manifests and 500
# index entries in the bucket, nothing left in the spool.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
spool="$T/spool"
make_sessions "$spool" 500 4000 sealed >"$T/sessions.txt"
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/d"

start=$(date +%s.%N)
TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once --jobs 8 2>"$T/uploader.log" ||
  { tail -n 20 "$T/uploader.log"; fail "uploader --once failed"; }
echo "500 sessions in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
grep -q "500 sessions sealed" "$T/uploader.log" || fail "uploader did not report 500 sessions"

assert_eq "$(find "$spool" -name '*.cast' -o -name '*.json' -o -name '*.upstate' | wc -l)" "0" "spool drained"
keys=$(bucket_keys d/)
assert_eq "$(grep -c '\.cast$' <<<"$keys")" "500" "recordings"
assert_eq "$(grep -c '^d/index/' <<<"$keys")" "500" "index entries"
assert_eq "$(grep -Evc '^d/(index|screen)-segments/' <<<"$keys")" "3001" "objects in all (six a session, the node key), segments aside"
while read -r id key; do echo "d/$key"; done <"$T/sessions.txt" | sort >"$T/want.txt"
grep '\.cast$' <<<"$keys" | sort | diff - "$T/want.txt" || fail "recording keys differ"
ok "500 sessions drained"
