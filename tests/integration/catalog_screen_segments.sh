#!/usr/bin/env bash
# The first `search --text` over a bucket reads the screen segments the uploader wrote beside the
# index segments, not one screen text object per session (counted in what s3rver served), and
# finds exactly what reading every session's screen text finds (--scan, the brute force). After
# `ttyaudit reindex` rebuilt the segments, the same holds. A session whose screen segment never
# landed (its uploader died first, then the node was lost) is still found, from its own object.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
start_s3rver
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
N=40
make_sessions "$T/spool" $N 3000 sealed >"$T/sessions"
write_config "$T/s3.json" "$T/spool" "s3://$S3_BUCKET/audit"
export TTYAUDIT_CONFIG="$T/s3.json"
STORE="s3://$S3_BUCKET/audit"
"$BIN/ttyaudit-uploader" --once 2>"$T/up.log" || fail "upload: $(cat "$T/up.log")"
segments=$(bucket_keys audit/screen-segments/)
[[ -n $segments ]] || fail "no screen segment in the bucket: $(bucket_keys audit/ | head)"
assert_eq "$(bucket_keys audit/sessions/ | grep -c '\.screen\.txt$')" $N "screen text objects"

# Reads s3rver answered so far of keys that match $1: its log has one line per response, the
# method cut off ("info: ...KEY 200 3ms 1.2kb"); a read is a 200 or 206 with a body (a PUT's
# response has none).
gets() {
  sed 's/\x1b\[[0-9;]*m//g' "$T"/s3rver.*.log |
    grep -Ec "$1[^ ]* 20[06] [0-9]+ms [0-9.]*[1-9][0-9.]*[kmg]?b$" || true
}
# Every session printed "line K of ID: ..." for K from 1 up: each screen text holds line 7 and 8
# of its own, so the pattern below matches those whose id has a 3 in its last 4 digits.
PATTERN='line [78] of [0-9a-f-]{32}[0-9a-f]*3[0-9a-f]*:'
want=$(awk 'substr($1, 33) ~ /3/ { print $1 }' "$T/sessions" | sort)
(($(wc -l <<<"$want") >= 5)) || fail "too few sessions to find: $want"

search_text() {  # [--scan]: the ids found, sorted
  "$BIN/ttyaudit" --store "$STORE" search "$@" --text "$PATTERN" --json | jq -r .id | sort
}
check_first_search() {  # WHAT
  rm -rf "$TTYAUDIT_CACHE_DIR"
  local texts=$(gets 'sessions/.*\.screen\.txt') segs=$(gets 'screen-segments/')
  assert_eq "$(search_text)" "$want" "$1: the first --text"
  assert_eq "$(($(gets 'sessions/.*\.screen\.txt') - texts))" 0 "$1: screen text objects read"
  (($(gets 'screen-segments/') > segs)) || fail "$1: no screen segment read"
  texts=$(gets 'sessions/.*\.screen\.txt')
  assert_eq "$(search_text)" "$want" "$1: a repeated --text"
  assert_eq "$(($(gets 'sessions/.*\.screen\.txt') - texts))" 0 "$1: objects read on a repeat"
}
check_first_search "the uploader's segments"
texts=$(gets 'sessions/.*\.screen\.txt')
assert_eq "$(search_text --scan)" "$want" "the brute force"
assert_eq "$(($(gets 'sessions/.*\.screen\.txt') - texts))" $N "the brute force's reads"
ok "the first --text reads $(wc -l <<<"$segments") screen segment(s), no screen text object"

# reindex rebuilds the screen segments from the objects beside the recordings.
"$BIN/ttyaudit" --store "$STORE" reindex >/dev/null
assert_eq "$(bucket_keys audit/screen-segments/ | grep -c reindex)" \
  "$(bucket_keys audit/screen-segments/ | wc -l)" "only reindex's screen segments are left"
check_first_search "after reindex"
ok "reindex rebuilds the screen segments; --text finds the same"

# A session whose screen text never reached a segment: its line was in the journal of a node
# that was lost. --text reads its own object.
make_sessions "$T/spool" 1 3000 sealed >"$T/late"
read -r late _ <"$T/late"
"$BIN/ttyaudit-uploader" --once 2>"$T/up2.log" || fail "upload: $(cat "$T/up2.log")"
newest=$(bucket_keys audit/screen-segments/ | tail -n 1)
awss3 rm --quiet "s3://$S3_BUCKET/$newest"
rm -rf "$TTYAUDIT_CACHE_DIR"
texts=$(gets 'sessions/.*\.screen\.txt')
assert_eq "$("$BIN/ttyaudit" --store "$STORE" search --text "line 7 of $late:" --json | jq -r .id)" \
  "$late" "a session with no screen segment"
assert_eq "$(($(gets 'sessions/.*\.screen\.txt') - texts))" 1 "objects read for it"
ok "a session with no screen segment is found from its own screen text"
