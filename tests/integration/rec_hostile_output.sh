# Hostile output does not hurt the recorder: a 1 GiB burst with memory bounded, NUL bytes,
# and an escape sequence that never ends, all recorded exactly and searchable.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

# 1 GiB burst: peak RSS of the recorder stays small however much passes through.
"$TA" rec -q -- sh -c 'stty raw -echo; yes | head -c 1073741824' </dev/null >/dev/null &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  hwm=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status 2>/dev/null || echo 0)
  [[ -n $hwm && $hwm -gt $peak ]] && peak=$hwm
  sleep 0.1
done
wait "$pid" || fail "rec failed on the burst"
echo "peak RSS of the recorder over a 1 GiB burst: ${peak} kB"
if readelf -d "$BIN/ttyaudit-rec" | grep -q 'libasan'; then
  # ASan keeps freed memory in a quarantine of up to 256 MiB: the figure would measure that.
  echo "(a sanitizer build: the RSS bound is not checked)"
else
  ((peak < 8192)) || fail "recorder peak RSS ${peak} kB is not bounded"
fi
id=$(only_session_id)
assert_eq "$(session_field "$id" bytes_out)" 1073741824 "bytes_out"
assert_eq "$("$TA" cat "$id" | wc -c)" 1073741824 "bytes replayed"
chattr -i "$SPOOL"/* 2>/dev/null || true  # sealed files are immutable
rm -f "$SPOOL"/*

# NULs, invalid UTF-8 and an escape sequence that never ends.
{ head -c 100000 /dev/zero; printf '\377\376\300'; printf '\033['; head -c 5000000 /dev/zero | tr '\0' '1'; } >"$T/hostile"
"$TA" rec -q -- sh -c "stty raw -echo; cat '$T/hostile'" </dev/null >/dev/null
id=$(only_session_id)
"$TA" cat "$id" | cmp - "$T/hostile" || fail "hostile bytes not reproduced exactly"
set +e
timeout 60 "$TA" search --text 'never-shown' --json >"$T/found"; rc=$?
set -e
assert_eq "$rc" 0 "search over the endless escape finishes"
assert_eq "$(wc -l <"$T/found")" 0 "no false match"
ok "hostile output recorded exactly with bounded memory"
