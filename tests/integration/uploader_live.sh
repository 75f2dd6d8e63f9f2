#!/usr/bin/env bash
# While a session records, its new lines show up in the bucket as live chunks within a few
# seconds; the chunks in order are the recording so far; once the session is sealed, the sealed
# object replaces them.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
spool="$T/spool"
read -r id key < <(make_sessions "$spool" 1 2000 open)
cast="$spool/$id.cast"
# A live recorder holds flock(LOCK_EX) on its .cast.
# -F: flock becomes the sleep, so the pid the test stops at exit is the lock holder itself.
flock -x -F "$cast" sleep 600 &
track_pid $!
wait_for 5 grep -q FLOCK /proc/locks
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/p" 1

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --interrupted-after 5 &
up=$!
track_pid $up

# Concatenates the live chunks of the session, in order.
live_text() {
  rm -rf "$T/live" && mkdir -p "$T/live"
  awss3 cp --recursive "s3://$S3_BUCKET/p/live/$id/" "$T/live/" >/dev/null 2>&1 || true
  cat "$T/live/"*.part 2>/dev/null || true
}

for round in 1 2 3; do
  marker="typed-in-round-$round-$RANDOM"
  python3 "$ROOT/tests/lib/castchain.py" append "$cast" \
    "$(printf '[%d.5, "o", "%s\\r\\n"]' "$((100 + round))" "$marker")"
  t0=$(date +%s.%N)
  for _ in $(seq 100); do
    live_text | grep -q "$marker" && break
    sleep 0.1
  done
  live_text | grep -q "$marker" || fail "round $round: [$marker] not in the live chunks after 10 s"
  echo "round $round: visible after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
done
live_text >"$T/live.cast"
cmp "$T/live.cast" "$cast" || fail "the live chunks in order are not the recording"
kill -0 "$up" || fail "uploader died"

# Seal it: the recorder writes the manifest (state exited) and lets go of the lock.
PYTHONPATH="$ROOT/tests/lib" python3 - "$cast" "$spool/$id.json" <<'PY'
import castchain, json, sys
hdr = json.loads(open(sys.argv[1]).readline())["ttyaudit"]
hdr.update(state="exited", exit_code=0, end_ns=hdr["start_ns"] + 10**9)
json.dump({"manifest_version": 1, "session": hdr, "commands": [],
           "chain": castchain.manifest_chain(sys.argv[1])}, open(sys.argv[2] + ".tmp", "w"))
PY
mv "$spool/$id.json.tmp" "$spool/$id.json"
cp "$cast" "$T/final.cast"
wait_for 20 test ! -e "$cast"
awss3 cp "s3://$S3_BUCKET/p/$key" "$T/sealed.cast" >/dev/null
cmp "$T/sealed.cast" "$T/final.cast" || fail "sealed object differs"
assert_eq "$(bucket_keys p/live/)" "" "live chunks removed after sealing"
assert_eq "$(bucket_keys p/ | grep -Evc '^p/(index|screen)-segments/')" "7" "recording, manifest, signature, screen text, keyframes, index, node key"

kill -TERM "$up"
wait "$up" || fail "uploader exited non-zero on SIGTERM"
ok "live chunks visible while recording, replaced by the sealed session"
