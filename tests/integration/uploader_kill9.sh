#!/usr/bin/env bash
# The uploader is killed with SIGKILL in the middle of a multipart upload; restarted, it goes
# on from the parts it had recorded, and the session arrives once, byte for byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
one_big_session $((40 << 20))
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/k9"

# recorded_parts: the part numbers the upload state lists as done, one a line.
recorded_parts() { jq -r '.parts[][0]' "$state"; }

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --jobs 1 &
up=$!
track_pid $up
# Kill it once it has recorded two of the multipart upload's six parts (40 MiB in 8 MiB parts),
# so that a restart from part 1 sends more parts than one that resumes.
state="$spool/$id.upstate"
killed=
for _ in $(seq 3000); do
  if [ -f "$state" ] && jq -e '.phase == "cast" and (.parts | length) >= 2' "$state" >/dev/null 2>&1
  then
    kill -KILL "$up"
    killed=$(cat "$state")
    break
  fi
  kill -0 "$up" 2>/dev/null || break  # it ended (or failed) before: no use waiting
  sleep 0.01
done
wait "$up" 2>/dev/null || true
[ -n "$killed" ] || fail "never saw the upload mid-multipart"
echo "killed with state: $killed"
jq -e '.phase == "cast"' "$state" >/dev/null || fail "state moved on after SIGKILL: $(cat "$state")"
upload_id=$(jq -r .upload_id "$state")
mapfile -t done_parts < <(recorded_parts)
((${#done_parts[@]} >= 2 && ${#done_parts[@]} < 6)) ||
  fail "want 2 to 5 of 6 parts recorded at the kill, got ${#done_parts[@]}: $(cat "$state")"
assert_eq "${done_parts[*]}" "$(seq -s ' ' 1 ${#done_parts[@]})" "parts recorded: 1 up to N"
sleep 0.5  # s3rver logs a request it was still answering at the kill
part_requests >"$T/parts.before"
nbefore=$(wc -l <"$T/parts.before")

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once || fail "restarted uploader failed"
tail -n +$((nbefore + 1)) <(part_requests) >"$T/parts.after"
echo "recorded before the kill: ${done_parts[*]}; part uploads after the restart: $(tr '\n' ' ' <"$T/parts.after")"
# The restart sends exactly the parts not recorded, each once, into the same multipart upload.
assert_eq "$(cut -d' ' -f1 "$T/parts.after" | tr '\n' ' ')" "$(seq -s ' ' $((${#done_parts[@]} + 1)) 6) " \
  "parts sent after the restart"
assert_eq "$(cut -d' ' -f2 "$T/parts.after" | sort -u)" "$upload_id" "upload id after the restart"
awss3 cp "s3://$S3_BUCKET/k9/$key" "$T/back.cast" >/dev/null
cmp "$T/back.cast" "$T/orig.cast" || fail "session differs after kill -9 and restart"
assert_eq "$(bucket_keys k9/ | grep -Evc '^k9/(index|screen)-segments/')" "7" "recording, manifest, signature, screen text, keyframes, index, node key: once"
[ ! -e "$spool/$id.cast" ] && [ ! -e "$state" ] || fail "spool not cleaned up"
ok "resumed after kill -9 with ${#done_parts[@]} of 6 parts recorded: sent parts $(cut -d' ' -f1 "$T/parts.after" | tr '\n' ' ')only, arrived once"
