#!/usr/bin/env bash
# A bucket's live chunks are hostile input: `ttyaudit watch` from the bucket skips, with a
# warning and without loading it, a chunk over 32 MiB, shows the chunks around it, and once
# the chunks are replaced by the sealed recording, reads that on from where the chunks ended
# (the skipped chunk counted) and exits with the status its index entry gives.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
write_config "$T/reader.json" "$T/no-spool" "s3://$S3_BUCKET/p"
reader() { TTYAUDIT_CONFIG="$T/reader.json" "$BIN/ttyaudit" "$@"; }

id=01a23d00-0000-7000-8000-0000000000aa
day=$(date -u +%F)
start_ns=$(date +%s%N)
mkdir -p "$T/chunks"
python3 - "$T/chunks" "$id" "$start_ns" <<'PY'
import json, sys
d, sid, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
meta = {"id": sid, "source": "host", "node": "n1", "user": "root", "uid": 0, "argv": ["sh"],
        "start_ns": start, "state": "recording", "width": 80, "height": 24}
header = json.dumps({"version": 2, "width": 80, "height": 24, "ttyaudit": meta})
open(f"{d}/0", "w").write(header.ljust(len(header) + 64) + "\n" +
                         '[0.1, "o", "first-line\\r\\n"]\n')
open(f"{d}/1", "w").write('[0.2, "o", "' + "A" * (33 << 20) + '"]\n')
open(f"{d}/2", "w").write('[0.3, "o", "after-big\\r\\n"]\n')
open(f"{d}/3", "w").write('[0.4, "o", "tail-after-seal\\r\\n"]\n')
meta.update(state="exited", exit_code=9, end_ns=start + 10**9)
json.dump({"session": meta}, open(f"{d}/session.json", "w"))
PY
for i in 0 1 2; do awss3 cp "$T/chunks/$i" "s3://$S3_BUCKET/p/live/$id/0000000$i.part" >/dev/null; done

assert_eq "$(reader search --live --json | jq -r .id)" "$id" "search --live lists the session"
TTYAUDIT_CONFIG="$T/reader.json" "$BIN/ttyaudit" watch "$id" >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
track_pid "$watcher"
wait_for 10 grep -q after-big "$T/watch.out" || fail "watch did not go past the big chunk: $(cat "$T/watch.err")"
grep -q first-line "$T/watch.out" || fail "watch lost the first chunk"
grep -q AAAA "$T/watch.out" && fail "watch showed the chunk it should have skipped"
grep -q "00000001.part: .* over the 32 MiB a chunk may hold; skipped" "$T/watch.err" ||
  fail "no warning for the big chunk: $(cat "$T/watch.err")"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$watcher/status")
if readelf -d "$BIN/ttyaudit" | grep -q 'libasan'; then
  # ASan keeps freed memory in a quarantine of up to 256 MiB: the figure would measure that.
  echo "(a sanitizer build: the RSS bound is not checked; peak RSS $rss KiB)"
else
  ((rss < 40000)) || fail "watch's peak memory is $rss KiB: did it load the big chunk?"
fi
ok "a 33 MiB chunk is skipped with a warning (watch's peak RSS $rss KiB)"

# Sealed as the uploader seals: the recording, its index entry, then the chunks go.
key="sessions/date=$day/_host/n1/root/$id.cast"
cat "$T/chunks/0" "$T/chunks/1" "$T/chunks/2" "$T/chunks/3" >"$T/sealed.cast"
awss3 cp "$T/sealed.cast" "s3://$S3_BUCKET/p/$key" >/dev/null
jq -c --arg key "$key" '. + {key: $key, commands: []}' "$T/chunks/session.json" >"$T/index.json"
awss3 cp "$T/index.json" "s3://$S3_BUCKET/p/index/date=$day/node=n1/$id.json" >/dev/null
awss3 rm --recursive "s3://$S3_BUCKET/p/live/$id/" >/dev/null
wait_for 20 sh -c "! kill -0 $watcher 2>/dev/null" || fail "watch did not end once the session was sealed"
rc=0
wait "$watcher" || rc=$?
assert_eq "$rc" 9 "watch's exit status (the index entry's): $(cat "$T/watch.err")"
grep -q tail-after-seal "$T/watch.out" || fail "watch did not read the sealed rest: $(cat "$T/watch.err")"
assert_eq "$(grep -c . "$T/watch.out")" 3 "lines shown (first, after-big, tail)"
ok "the sealed recording goes on where the chunks ended; watch exits with its status"
