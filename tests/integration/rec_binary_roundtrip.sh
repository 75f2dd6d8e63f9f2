# Output that is not UTF-8 (random bytes, NULs) comes back from `ttyaudit cat` byte for byte,
# and equals what the terminal received.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
head -c 3000000 /dev/urandom >"$T/random"
"$TA" rec -q -- sh -c "stty raw -echo; cat '$T/random'" </dev/null >"$T/seen"
id=$(only_session_id)
"$TA" cat "$id" >"$T/recorded"
cmp "$T/seen" "$T/recorded" || fail "recorded output differs from what the terminal got"
cmp "$T/random" "$T/recorded" || fail "recorded output differs from the bytes written"
ok "3 MB of random bytes round-tripped exactly"
