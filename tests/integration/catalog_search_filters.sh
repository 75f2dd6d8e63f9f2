#!/usr/bin/env bash
# `ttyaudit search` over the catalog finds, filter by filter and in combinations, exactly what a
# brute-force scan of the per-session index entries finds, newest first, in a local archive and
# in an S3 bucket; --scan (the old way) agrees. Bad dates and missing stores are errors, --json
# is one object per line, and progress shows on a terminal only.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/catalog.sh"
start_s3rver
export TTYAUDIT_CACHE_DIR="$T/cache"
make_varied_sessions "$T/spool" 200 node-1 1 >"$T/ids-1"
make_varied_sessions "$T/spool" 100 node-2 2 >"$T/ids-2"
cp -a "$T/spool" "$T/spool-s3"
write_config "$T/archive.json" "$T/spool" "file://$T/archive"
write_config "$T/s3.json" "$T/spool-s3" "s3://$S3_BUCKET/audit"
TTYAUDIT_CONFIG="$T/archive.json" "$BIN/ttyaudit-uploader" --once 2>"$T/up1.log" || fail "upload to the archive"
TTYAUDIT_CONFIG="$T/s3.json" "$BIN/ttyaudit-uploader" --once 2>"$T/up2.log" || fail "upload to the bucket"
mkdir -p "$T/s3copy"
awss3 cp --recursive --quiet "s3://$S3_BUCKET/audit/index/" "$T/s3copy/index/"

SINCE=$(date -u -d '-36 hours' +%Y-%m-%dT%H:%M:%SZ)
UNTIL=$(date -u -d '-12 hours' +%Y-%m-%dT%H:%M:%SZ)
export TTYAUDIT_CONFIG="$T/archive.json"
check_store() {  # STORE TRUTH_DIR SCANS: the first SCANS filters also by --scan
  local store=$1 truth=$2 scans=$3 n=0 i=0 line args want got scan
  while IFS= read -r line; do
    i=$((i + 1))
    eval "args=($line)"
    want=$(brute_force "$truth" "${args[@]}")
    got=$("$BIN/ttyaudit" --store "$store" search --json "${args[@]}" | jq -r .id)
    [[ $got == "$want" ]] || fail "$store search $line: $(wc -l <<<"$got") ids, want $(wc -l <<<"$want") (first diff: $(diff <(echo "$got") <(echo "$want") | head -3))"
    if ((i <= scans)); then
      scan=$("$BIN/ttyaudit" --store "$store" search --scan --json "${args[@]}" | jq -r .id)
      [[ $scan == "$want" ]] || fail "$store search --scan $line differs from the brute force"
    fi
    [[ -n $want ]] && n=$((n + 1))
  done < <(search_filter_lines)
  ((n >= 25)) || fail "only $n filters matched anything: the test data is too thin"
  echo "$store: $(search_filter_lines | wc -l) filters agree with the brute force ($n non-empty)"
}
all=$("$BIN/ttyaudit" --store "file://$T/archive" search --json)
assert_eq "$(wc -l <<<"$all")" 300 "sessions in the archive"
assert_eq "$(jq -c . <<<"$all" | wc -l)" 300 "one JSON object per line"
assert_eq "$(jq -r .id <<<"$all" | sort -u | wc -l)" 300 "each session once"
assert_eq "$(jq -r .id <<<"$all" | sort)" "$(sort "$T/ids-1" "$T/ids-2")" "the ids uploaded"
# --scan reads one object per session: every filter locally, a few from the bucket.
check_store "file://$T/archive" "$T/archive" 100
check_store "s3://$S3_BUCKET/audit" "$T/s3copy" 2

# Bad dates and bad values are errors that name them.
for bad in 2026-13-45 2026-02-30 2026-12-03T25:00:00Z 2026-12-03T10:00:00 yesterday; do
  if "$BIN/ttyaudit" --store "file://$T/archive" search --since "$bad" >"$T/out" 2>"$T/err"; then
    fail "--since $bad accepted"
  fi
  assert_contains "$(cat "$T/err")" "--since: bad time \`$bad\`" "error names --since $bad"
done
"$BIN/ttyaudit" --store "file://$T/archive" search --until 1h --json >/dev/null || fail "--until 1h (an hour ago)"
for bad in "--state sealed" "--exit-code x" "--uid root" "--limit 0" "--command (" "--text ["; do
  opt=${bad%% *} val=${bad#* }
  if "$BIN/ttyaudit" --store "file://$T/archive" search "$opt" "$val" 2>"$T/err"; then fail "$bad accepted"; fi
  assert_contains "$(cat "$T/err")" "$opt" "error names $opt"
done

# A store that does not exist, or is not one, is an error, not an empty list.
if "$BIN/ttyaudit" --store "file://$T/nowhere" search >"$T/out" 2>"$T/err"; then fail "missing store: exit 0"; fi
assert_contains "$(cat "$T/err")" "No such file or directory" "missing store"
touch "$T/plain"
if "$BIN/ttyaudit" --store "file://$T/plain" search 2>"$T/err"; then fail "a file as store: exit 0"; fi
if "$BIN/ttyaudit" --store "s3://no-such-bucket/x" search 2>"$T/err"; then fail "missing bucket: exit 0"; fi
assert_contains "$(cat "$T/err")" "NoSuchBucket" "missing bucket"

# Progress: on a terminal for a sync that reads segments; never with --json or off a terminal.
rm -rf "$T/cache"
"$BIN/ttyaudit" --store "s3://$S3_BUCKET/audit" search --limit 1 >/dev/null 2>"$T/err"
assert_eq "$(cat "$T/err")" "" "nothing on stderr off a terminal"
rm -rf "$T/cache"
script -qfec "'$BIN/ttyaudit' --store 's3://$S3_BUCKET/audit' search --limit 1 --json" /dev/null >"$T/tty-json"
if grep -q "sessions indexed" "$T/tty-json"; then fail "progress shown with --json"; fi
rm -rf "$T/cache"
script -qfec "'$BIN/ttyaudit' --store 's3://$S3_BUCKET/audit' search --limit 1" /dev/null >"$T/tty"
assert_contains "$(tr '\r' '\n' <"$T/tty")" "segments read, 300 sessions indexed" "progress on a terminal"
script -qfec "'$BIN/ttyaudit' --store 's3://$S3_BUCKET/audit' search --limit 1" /dev/null >"$T/tty2"
if grep -q "sessions indexed" "$T/tty2"; then fail "progress shown for a sync with nothing new"; fi
ok "every filter agrees with a brute-force scan, in an archive and a bucket"
