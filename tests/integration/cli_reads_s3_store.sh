# Sessions uploaded to an S3 bucket are found, replayed and exported by the CLI from the bucket
# alone (the spool emptied), byte-identical to what was recorded.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
start_s3rver
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
export TTYAUDIT_CONFIG="$T/config.json"
cat >"$TTYAUDIT_CONFIG" <<JSON
{"spool_dir": "$T/spool", "archive_dir": "$T/archive", "store": "s3://$S3_BUCKET/audit",
 "s3": {"endpoint": "$S3_ENDPOINT", "region": "us-east-1", "path_style": true},
 "log_file": "$T/ttyaudit.log"}
JSON
TA="$BIN/ttyaudit"
head -c 200000 /dev/urandom >"$T/random"
"$TA" rec -q -- sh -c "echo needle-in-output; stty raw -echo; cat '$T/random'" </dev/null >"$T/seen"
rc=0
"$TA" rec -q -- sh -c 'echo second session; exit 6' </dev/null >/dev/null || rc=$?
assert_eq "$rc" 6 "rec exit status"
"$TA" cat "$(ls "$T/spool" | sed -n 's/\.cast$//p' | head -n 1)" >"$T/from-spool"
"$BIN/ttyaudit-uploader" --once
[[ -z $(ls "$T/spool"/*.cast 2>/dev/null) ]] || fail "the spool still holds sessions after upload"

found=$("$TA" search --json)
assert_eq "$(wc -l <<<"$found")" 2 "sessions found in the bucket"
[[ $(jq -r .where <<<"$found" | sort -u) == "s3://$S3_BUCKET/audit" ]] || fail "where: $(jq -r .where <<<"$found")"
key=$(jq -r 'select(.exit_code == 6) | .key' <<<"$found")
[[ $key == audit/sessions/date=*/_host/*/*.cast ]] || fail "key $key"
assert_contains "$(bucket_keys audit/sessions/)" "${key#audit/}" "key names the object in the bucket"

id=$("$TA" search --text needle-in-output --json | jq -r .id)
[[ -n $id ]] || fail "--text found nothing in the bucket"
"$TA" cat "$id" >"$T/from-bucket"
cmp "$T/from-spool" "$T/from-bucket" || fail "cat from the bucket differs from the recording"
tail -c 200000 "$T/from-bucket" | cmp - "$T/random" || fail "binary output not exact"
"$TA" --store "s3://$S3_BUCKET/audit" export "$id" >"$T/exported.cast"
assert_eq "$(head -n 1 "$T/exported.cast" | jq -r .version)" 2 "exported asciicast version"
if grep -q '"b",' "$T/exported.cast"; then fail "export kept ttyaudit's raw-byte events"; fi
assert_eq "$("$TA" search --command 'exit 6' --json | jq -r .exit_code)" 6 "search --command"
ok "search, cat and export read the bucket"

# play of a bucket's session, stopped with Ctrl-C, leaves no copy behind: the fetched copy
# never has a name, only the open file of the process that plays it.
"$TA" rec -q -- sh -c 'echo slow-start; sleep 2; echo slow-end' </dev/null >/dev/null
"$BIN/ttyaudit-uploader" --once
slow=$("$TA" search --command slow-start --json | jq -r .id)
[[ -n $slow ]] || fail "the slow session is not in the bucket"
mkdir "$T/tmp"
# A background job of a script starts with SIGINT ignored; Ctrl-C's signal must reach play.
TMPDIR="$T/tmp" env --default-signal=INT "$TA" play -i 0 "$slow" >"$T/slow.out" &
player=$!
wait_for 20 grep -q slow-start "$T/slow.out"
ls -l "/proc/$player/fd" | grep -q "$T/tmp/.*(deleted)" || fail "play holds no fetched copy"
assert_eq "$(ls -A "$T/tmp")" "" "named files in TMPDIR while play runs"
kill -INT "$player"
wait "$player" && fail "play was not interrupted"
assert_eq "$(ls -A "$T/tmp")" "" "files left in TMPDIR after Ctrl-C"
if grep -q slow-end "$T/slow.out"; then fail "play ran to the end despite Ctrl-C"; fi
ok "play of a bucket's session, interrupted, left no temporary copy"
