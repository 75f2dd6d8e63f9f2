#!/usr/bin/env bash
# Two nodes' uploaders writing to one bucket at once: every session is found once. Then
# `ttyaudit reindex` rebuilds the segments from the per-session index entries with the same
# lines, and the cache with the same search results, every time it runs.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/catalog.sh"
start_s3rver
export TTYAUDIT_CACHE_DIR="$T/cache"
make_varied_sessions "$T/spool1" 150 node-1 11 >"$T/ids"
make_varied_sessions "$T/spool2" 150 node-2 12 >>"$T/ids"
write_config "$T/c1.json" "$T/spool1" "s3://$S3_BUCKET/two"
write_config "$T/c2.json" "$T/spool2" "s3://$S3_BUCKET/two"
STORE="s3://$S3_BUCKET/two"
# A search before, during and after the uploads: each sees every session at most once.
TTYAUDIT_CONFIG="$T/c1.json" "$BIN/ttyaudit" --store "$STORE" search --json >/dev/null
TTYAUDIT_CONFIG="$T/c1.json" "$BIN/ttyaudit-uploader" --once --jobs 4 2>"$T/up1.log" &
u1=$!
TTYAUDIT_CONFIG="$T/c2.json" "$BIN/ttyaudit-uploader" --once --jobs 4 2>"$T/up2.log" &
u2=$!
track_pid $u1
track_pid $u2
export TTYAUDIT_CONFIG="$T/c1.json"
while kill -0 $u1 2>/dev/null || kill -0 $u2 2>/dev/null; do
  during=$("$BIN/ttyaudit" --store "$STORE" search --json | jq -r .id)
  assert_eq "$(sort <<<"$during" | uniq -d)" "" "no session twice while uploading"
  sleep 0.2
done
wait $u1 || fail "uploader 1 failed"
wait $u2 || fail "uploader 2 failed"
found=$("$BIN/ttyaudit" --store "$STORE" search --json | jq -r .id)
assert_eq "$(sort <<<"$found")" "$(sort "$T/ids")" "both nodes' sessions, once each"
assert_eq "$(bucket_keys two/index-segments/ | grep -c node-1)" 1 "node-1's segment"
assert_eq "$(bucket_keys two/index-segments/ | grep -c node-2)" 1 "node-2's segment"

segment_lines() {
  rm -rf "$T/seg" && mkdir "$T/seg"
  awss3 cp --recursive --quiet "s3://$S3_BUCKET/two/index-segments/" "$T/seg/"
  find "$T/seg" -name '*.jsonl' -exec cat {} + | sort
}
before_lines=$(segment_lines)
before=$("$BIN/ttyaudit" --store "$STORE" search --json)
assert_eq "$(wc -l <<<"$before_lines")" 300 "lines in the uploaders' segments"
for run in 1 2; do
  "$BIN/ttyaudit" --store "$STORE" reindex >"$T/reindex.out" 2>"$T/reindex.err" || fail "reindex: $(cat "$T/reindex.err")"
  assert_contains "$(cat "$T/reindex.out")" "300 index entries read, 300 sessions written" "reindex $run"
  assert_contains "$(cat "$T/reindex.out")" "holds 300 sessions" "cache rebuilt $run"
  assert_eq "$(segment_lines)" "$before_lines" "segments rebuilt identical (run $run)"
  assert_eq "$(bucket_keys two/index-segments/ | wc -l)" 1 "the old segments replaced (run $run)"
  assert_eq "$("$BIN/ttyaudit" --store "$STORE" search --json)" "$before" "search after reindex $run"
done
# A segment lost (deleted by hand) is put back by reindex.
awss3 rm --quiet --recursive "s3://$S3_BUCKET/two/index-segments/"
rm -rf "$T/cache"
assert_eq "$("$BIN/ttyaudit" --store "$STORE" search --json | wc -l)" 0 "no segments, nothing in the catalog"
"$BIN/ttyaudit" --store "$STORE" reindex >/dev/null 2>&1 || fail "reindex after loss"
assert_eq "$("$BIN/ttyaudit" --store "$STORE" search --json)" "$before" "search after segments were lost and rebuilt"
ok "two uploaders at once: 300 sessions once each; reindex rebuilds segments and cache identical"
