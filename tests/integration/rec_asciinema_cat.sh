# Debian's asciinema reads ttyaudit's files unchanged and prints the same output as ttyaudit cat.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
command -v asciinema >/dev/null || fail "asciinema is not installed (make deps)"
"$TA" rec -q -- sh -c 'printf "\033[1;31mred\033[0m plain w\303\266rld\n"; ls -la /; seq 1 500' </dev/null >/dev/null
id=$(only_session_id)
"$TA" cat "$id" >"$T/ours"
# asciinema cat wants a terminal on /dev/tty: give it one with script(1).
script -qec "asciinema cat '$SPOOL/$id.cast' > '$T/theirs'" /dev/null >/dev/null
cmp "$T/ours" "$T/theirs" || fail "asciinema cat and ttyaudit cat differ"
[[ $(wc -c <"$T/ours") -gt 1000 ]] || fail "too little output recorded"
ok "asciinema cat agrees byte for byte"
