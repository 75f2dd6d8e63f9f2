#!/usr/bin/env bash
# A 40 MiB session goes up as a multipart upload (8 MiB parts with Content-Length) and reads
# back byte for byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
one_big_session $((40 << 20))
size=$(stat -c %s "$T/orig.cast")
((size >= 40 << 20)) || fail "test session is only $size bytes"
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET"

start=$(date +%s.%N)
TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once || fail "uploader --once failed"
echo "uploaded $size bytes in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"

# 40 MiB and some in 8 MiB parts: six part uploads, parts 1 to 6 each once, one upload id.
parts=$(part_requests | cut -d' ' -f1 | tr '\n' ' ')
assert_eq "$parts" "1 2 3 4 5 6 " "UploadPart requests answered"
assert_eq "$(part_requests | cut -d' ' -f2 | sort -u | wc -l)" 1 "multipart uploads"
awss3 cp "s3://$S3_BUCKET/$key" "$T/back.cast" >/dev/null
cmp "$T/back.cast" "$T/orig.cast" || fail "40 MiB session differs after the round trip"
assert_eq "$(bucket_keys | grep -Evc '^(index|screen)-segments/')" "7" "recording, manifest, signature, screen text, keyframes, index, node key"
[ ! -e "$spool/$id.cast" ] || fail "spool file still there"
ok "40 MiB session ($size bytes) in parts $parts(one upload), byte-identical"
