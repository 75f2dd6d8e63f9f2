# A hostile recording is harmless to read. Replayed with cat and play in a terminal (a tmux
# pane running a shell), its terminal queries (DSR, DA, DECRQSS), clipboard write (OSC 52),
# titles (OSC 0, 2) and hyperlink reach neither the shell's input line, nor tmux's paste buffer,
# nor the pane's title, while its text shows. The same replay with --raw does all three: the
# control that shows these checks can fail. The search table shows ^[ for an ESC in argv.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

clip=$(printf owned-clipboard | base64)
printf 'visible-start\r\n\033[6n\033[5n\033[c\033[>c\033P$qm\033\\\033]52;c;%s\a' "$clip" >"$T/hostile"
printf '\033]0;owned-title\a\033]2;owned-title\033\\\033]8;;http://evil.example/\033\\link\033]8;;\033\\' >>"$T/hostile"
printf '\033[6n visible-end\r\n' >>"$T/hostile"
# The command's own argv carries an ESC too, as a hostile image's process name could.
"$TA" rec -q -- sh -c $'# \e[31mred\e]0;argv-title\a\nstty raw -echo; cat "$0"' "$T/hostile" \
  </dev/null >/dev/null
id=$(only_session_id)
"$TA" cat --raw "$id" | cmp - "$T/hostile" || fail "the recording does not hold the hostile bytes"

tmx new-session -d -s audit -c "$T" -x 120 -y 40 \
  "env PS1='AUDIT> ' TTYAUDIT_CONFIG=$TTYAUDIT_CONFIG TERM=screen sh"
tmx set-option -s set-clipboard on  # an OSC 52 from the pane would land in tmux's buffer
tmx_wait_text audit 'AUDIT>'
title0=$(tmx display-message -p -t audit '#{pane_title}')

# What the auditor's terminal took in: the paste buffers, the title, and whether the shell's
# input line is still clean (a command typed after the replay runs as typed).
check_terminal() {  # LABEL
  tmx send-keys -t audit "echo typed-$1-after" Enter
  sleep 1
  buffers=$(tmx list-buffers -F '#{buffer_sample}')
  title=$(tmx display-message -p -t audit '#{pane_title}')
  screen=$(tmx_screen audit)
}

tmx send-keys -t audit "$TA cat $id; $TA play -i 0.1 $id; echo replay-done" Enter
tmx_wait_text audit 'replay-done'
sleep 1  # a terminal's answers, if any, arrive meanwhile
check_terminal filtered
echo "--- pane after cat and play:"
echo "$screen"
assert_contains "$screen" visible-start "recorded text shown"
assert_contains "$screen" 'link visible-end' "the hyperlink's text shown, without the link"
grep -qx 'typed-filtered-after' <<<"$screen" || fail "the shell's input line was typed into"
if grep -qF '^[' <<<"$screen"; then fail "terminal answers were echoed on the pane"; fi
assert_eq "$buffers" "" "tmux paste buffers (OSC 52)"
assert_eq "$title" "$title0" "pane title"

# The control: --raw passes everything, and tmux answers, copies and retitles.
tmx send-keys -t audit "clear; $TA cat --raw $id; echo raw-done" Enter
tmx_wait_text audit 'raw-done'
sleep 1
check_terminal raw
echo "--- pane after cat --raw:"
echo "$screen"
assert_contains "$buffers" owned-clipboard "--raw: OSC 52 reached tmux's buffer"
assert_eq "$title" owned-title "--raw: the title"
if grep -qx 'typed-raw-after' <<<"$screen"; then fail "--raw: the terminal's answers did not reach the input line"; fi

# The search table shows control characters from recorded data, never sends them.
table=$("$TA" search)
echo "$table"
assert_contains "$table" '# ^[[31mred^[]0;argv-title^G^Jstty' "argv in the table, in caret notation"
if grep -q $'\e' <<<"$table"; then fail "the search table holds a raw ESC"; fi
ok "cat and play left the pane's input, buffer and title alone; the table shows ^["
