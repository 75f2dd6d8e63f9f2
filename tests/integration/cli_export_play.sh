# export writes plain asciicast v2 that other players take (only o, i, r and m events; bytes
# that are not UTF-8 as the U+FFFD text a player would show), and play replays the output
# bytes with the session's timing, its pauses shortened by --idle-limit.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
command -v asciinema >/dev/null || fail "asciinema is not installed (make deps)"
"$TA" rec -q -- sh -c 'printf "start \377\376 bytes\n"; sleep 1.2; printf "w\303\266rld end\n"' </dev/null >/dev/null
id=$(only_session_id)
grep -q '"b"' "$SPOOL/$id.cast" || fail "the recording should carry its raw bytes in a b event"

"$TA" export "$id" >"$T/plain.cast" || fail "export failed"
head -n 1 "$T/plain.cast" | jq -e '.version == 2 and .width > 0 and .height > 0' >/dev/null ||
  fail "export's header is not asciicast v2: $(head -n 1 "$T/plain.cast")"
codes=$(tail -n +2 "$T/plain.cast" | jq -r '.[1]' | sort -u | tr '\n' ' ')
[[ $codes =~ ^([iorm] )+$ ]] || fail "export has events other than o i r m: $codes"
script -qec "asciinema cat '$T/plain.cast' > '$T/asciinema.out'" /dev/null >/dev/null ||
  fail "asciinema cat refuses the export"
assert_contains "$(cat "$T/asciinema.out")" "start" "asciinema cat of the export"
assert_contains "$(cat "$T/asciinema.out")" "wörld end" "asciinema cat of the export"

# play: the exact output bytes (the raw ones too), with the pause in them...
start=$(date +%s%N)
"$TA" play "$id" >"$T/played" </dev/null || fail "play failed"
slow_ms=$((($(date +%s%N) - start) / 1000000))
cmp <("$TA" cat "$id") "$T/played" || fail "play's bytes differ from cat's"
((slow_ms >= 1000)) || fail "play took ${slow_ms} ms: the 1.2 s pause was not replayed"
# ...or without it.
start=$(date +%s%N)
"$TA" play --idle-limit 0.1 "$id" >"$T/played_fast" </dev/null || fail "play -i failed"
fast_ms=$((($(date +%s%N) - start) / 1000000))
cmp "$T/played" "$T/played_fast" || fail "play -i changed the bytes"
((fast_ms < slow_ms - 500)) || fail "--idle-limit 0.1 did not shorten the pause (${fast_ms} ms vs ${slow_ms} ms)"
"$TA" play no-such-session >/dev/null 2>"$T/err" && fail "play of an unknown id succeeded"
[[ -s $T/err ]] || fail "play of an unknown id said nothing"
ok "export plays in asciinema; play replays bytes and timing (${slow_ms} ms, ${fast_ms} ms with -i 0.1)"
