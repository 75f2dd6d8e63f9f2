# A full-screen program's text, drawn only with cursor moves on the alternate screen, is what
# search --text finds (never in the raw bytes, where escape sequences split it); its screen text
# and keyframes are made when the uploader seals the session, in the spool, then in the archive
# and in the bucket; play --at a time or a command lands on the screen of that moment at once.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
start_s3rver
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
S3_URL="s3://$S3_BUCKET/audit"
cat >"$TTYAUDIT_CONFIG" <<JSON
{"spool_dir": "$SPOOL", "archive_dir": "$T/archive", "fsync_interval_s": 0.2,
 "s3": {"endpoint": "$S3_ENDPOINT", "region": "us-east-1", "path_style": true},
 "log_file": "$T/ttyaudit.log"}
JSON

# The program: the alternate screen, "hid" and "den" put at row 5 with cursor moves, a pause,
# then a clear, a command (/bin/echo, which the manifest records), "second" and "screen" at
# row 8, a pause, and back to the main screen.
cat >"$T/fullscreen.sh" <<'SH'
printf '\033[?1049h\033[H\033[2J'
printf '\033[5;10Hhid\033[5;20Hden'
sleep 3
printf '\033[2J\033[H'
/bin/echo marker-command >/dev/null
printf '\033[8;5Hsecond\033[8;20Hscreen'
sleep 4
printf '\033[?1049l'
echo all done
SH
record() { "$TA" rec -q -- sh "$T/fullscreen.sh" </dev/null >/dev/null; }

# --- the archive: the uploader makes both files in the spool, then ships them -------------
record
id=$(only_session_id)
"$TA" cat "$id" >"$T/raw"
if grep -qF 'hid       den' "$T/raw"; then fail "the raw output already holds the drawn line"; fi
assert_contains "$(cat "$T/raw")" "hid" "raw output"
# The session's key in the archive; a directory where its keyframes go makes the seal fail
# after the screen files are in the spool (and retry later).
node=$(head -n 1 "$SPOOL/$id.cast" | jq -r .ttyaudit.node)
user=$(head -n 1 "$SPOOL/$id.cast" | jq -r .ttyaudit.user)
stem="$T/archive/sessions/date=$(date -u +%F)/_host/$node/$user/$id"
mkdir -p -m 0700 "$T/archive"  # as an install makes it: a looser archive is refused
mkdir -p "$stem.keyframes.jsonl"
"$BIN/ttyaudit-uploader" --once --store "file://$T/archive" 2>"$T/up1.err" &&
  fail "the seal succeeded with its keyframes' place taken"
[[ -s $SPOOL/$id.screen.txt && -s $SPOOL/$id.keyframes.jsonl ]] ||
  fail "no screen text or keyframes in the spool: $(ls "$SPOOL"); uploader: $(cat "$T/up1.err")"
grep -qx '         hid       den' "$SPOOL/$id.screen.txt" ||
  fail "the spool's screen text lacks the drawn line: $(cat "$SPOOL/$id.screen.txt")"
grep -qx '    second         screen' "$SPOOL/$id.screen.txt" || fail "no second screen"
rmdir "$stem.keyframes.jsonl"
"$BIN/ttyaudit-uploader" --once --store "file://$T/archive"
assert_eq "$(ls "$SPOOL" | grep -c "$id" || true)" 0 "files of the session left in the spool"
[[ -s $stem.cast && -s $stem.screen.txt && -s $stem.keyframes.jsonl ]] ||
  fail "the archive lacks the session's files: $(ls "$(dirname "$stem")")"
head -n 1 "$stem.keyframes.jsonl" | jq -e '.v == 1 and .duration > 6' >/dev/null ||
  fail "keyframes header: $(head -n 1 "$stem.keyframes.jsonl")"
tail -n +2 "$stem.keyframes.jsonl" | jq -s -e 'any(.[]; .why == "command")' >/dev/null ||
  fail "no keyframe at a command marker: $(tail -n +2 "$stem.keyframes.jsonl" | jq -c '[.t, .why]')"

A="file://$T/archive"
assert_eq "$("$TA" --store "$A" search --text 'hid {7}den' --json | jq -r .id)" "$id" \
  "--text over the screen text"
assert_eq "$("$TA" --store "$A" search --text 'hid {7}den' --json | jq -r .id)" "$id" \
  "--text again, from the catalog's text index"
assert_eq "$("$TA" --store "$A" search --text 'no such text' --json | wc -l)" 0 "--text miss"
# Without its screen text (a session from before: no object, no screen segment), --text falls
# back to the raw output, where the drawn line is not found and its pieces are.
cp -a "$T/archive" "$T/old-archive"
rm "$T/old-archive/${stem#"$T/archive/"}.screen.txt"
rm -r "$T/old-archive/screen-segments"
O="file://$T/old-archive"
assert_eq "$("$TA" --store "$O" search --text 'hid {7}den' --json | wc -l)" 0 \
  "the drawn line in the raw bytes"
assert_eq "$("$TA" --store "$O" search --text 'hid' --json | jq -r .id)" "$id" "raw fallback"
ok "the archive: screen text found by --text, spool and archive files, raw fallback"

# --- the bucket ------------------------------------------------------------------------------
record
id2=$(ls "$SPOOL" | sed -n 's/\.cast$//p')
[[ -n $id2 && $id2 != "$id" ]] || fail "the second session is not in the spool: $(ls "$SPOOL")"
"$BIN/ttyaudit-uploader" --once --store "$S3_URL"
keys=$(bucket_keys audit/sessions/)
assert_contains "$keys" "/$id2.cast" "bucket keys"
assert_contains "$keys" "/$id2.screen.txt" "bucket keys"
assert_contains "$keys" "/$id2.keyframes.jsonl" "bucket keys"
assert_eq "$("$TA" --store "$S3_URL" search --text 'second {9}screen' --json | jq -r .id)" \
  "$id2" "--text over the bucket"
ok "the bucket: screen text and keyframes beside the recording, found by --text"

# --- play --at, on a terminal -----------------------------------------------------------------
play_in_tmux() {  # NAME ARGS...: play in a fresh 80x24 pane
  local name=$1; shift
  local args
  printf -v args '%q ' "$@"
  tmx new-session -d -s "$name" -x 80 -y 24 \
    "env TTYAUDIT_CONFIG=$TTYAUDIT_CONFIG TTYAUDIT_CACHE_DIR=$TTYAUDIT_CACHE_DIR TERM=xterm $TA --store $S3_URL play $args; sleep 600"
}
# 1.5 s in: the first screen, at once (the drawing came at 0 s; play does not wait for it).
play_in_tmux at-time --at 1.5 "$id2"
tmx_wait_text at-time 'hid       den' 2
screen=$(tmx_screen at-time)
assert_eq "$(sed -n 5p <<<"$screen")" '         hid       den' "row 5 at 1.5 s"
if grep -q second <<<"$screen"; then fail "the second screen shows at 1.5 s: $screen"; fi
# At the command: the second screen, at once, the first one gone.
play_in_tmux at-command --at 'echo marker' "$id2"
tmx_wait_text at-command 'second         screen' 2
screen=$(tmx_screen at-command)
assert_eq "$(sed -n 8p <<<"$screen")" '    second         screen' "row 8 at the command"
if grep -q hid <<<"$screen"; then fail "the first screen still shows at the command: $screen"; fi
# And it plays on from there: back on the main screen at the end.
tmx_wait_text at-command 'all done' 10
# Past the end, or a command that never ran: an error that says so.
"$TA" --store "$S3_URL" play --at 99m "$id2" >/dev/null 2>"$T/err" && fail "--at past the end"
assert_contains "$(cat "$T/err")" "past the end" "--at 99m"
"$TA" --store "$S3_URL" play --at 'never-ran-xyz' "$id2" >/dev/null 2>"$T/err" &&
  fail "--at a command that never ran"
assert_contains "$(cat "$T/err")" "no command of the session matches" "--at never-ran-xyz"
ok "play --at a time and at a command land on their screens at once"
