#!/usr/bin/env bash
# ttyaudit-hook as ttyaudit-runtime installs it (containerd, `ctr run`): the container's
# metadata is where recorders find it while it runs, the recorder of an exec lists itself for
# the hook, and when the container is killed and deleted with that session open, the session is
# sealed and the metadata and session list are removed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

start_ttyaudit_containerd
ctr_run_bg sealc "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
bundle_cfg=$(find "$T/containerd/state" -path '*/sealc/config.json' | head -n 1)
[[ -n $bundle_cfg ]] || fail "no bundle config.json for sealc"
jq -e '.hooks.createRuntime[] | select(.path | endswith("/ttyaudit-hook"))' "$bundle_cfg" >/dev/null ||
  fail "ttyaudit-runtime did not add ttyaudit-hook at create: $(jq -c .hooks "$bundle_cfg")"
jq -e --arg d "TTYAUDIT_RUN_DIR=$T/run" '.hooks.createRuntime[] | select(.path | endswith("/ttyaudit-hook"))
  | .env | index($d)' "$bundle_cfg" >/dev/null ||
  fail "ttyaudit-runtime did not pass its run dir to the hook: $(jq -c .hooks "$bundle_cfg")"
meta="$T/run/containers/sealc.json"
[[ -f $meta ]] || fail "no metadata at $meta; log: $(tail -n 5 "$T/ttyaudit.log" 2>/dev/null)"
assert_eq "$(jq -r .id "$meta")" sealc "metadata id"
[[ $(jq -r .pid "$meta") -gt 0 ]] || fail "no init pid in $(cat "$meta")"
ok "createRuntime through ttyaudit-runtime: metadata at $meta"

ctr_exec_tty sealc open sh -c 'echo session-open; sleep 300' >"$T/client.out" 2>&1 &
client=$!
track_pid "$client"
wait_for 10 grep -q session-open "$T/client.out"
# The recorder lists itself for the hook: one file naming its pid and start time.
wait_for 5 compgen -G "$T/run/sessions/sealc/*.pid"
reg=$(compgen -G "$T/run/sessions/sealc/*.pid")
assert_eq "$(wc -l <<<"$reg")" 1 "session files of sealc"
read -r rec_pid rec_start <"$reg"
[[ $(tr '\0' ' ' <"/proc/$rec_pid/cmdline") == *ttyaudit* ]] ||
  fail "the listed pid $rec_pid is not a recorder: $(tr '\0' ' ' <"/proc/$rec_pid/cmdline")"
assert_eq "$rec_start" "$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$rec_pid/stat")" "listed start time"
cctr task kill -s KILL sealc
wait_for 10 bash -c "! ctr --address '$CTR_SOCK' -n '$CTR_NS' task ls | grep -q '^sealc .*RUNNING'"
cctr task delete sealc >/dev/null
mapfile -t ids < <(session_with_argv "session-open")
assert_eq "${#ids[@]}" 1 "sessions"
wait_sealed "${ids[0]}"
[[ ! -e $meta ]] || fail "metadata still there after delete"
[[ ! -e "$T/run/sessions/sealc" ]] || fail "session list still there after delete: $(ls "$T/run/sessions/sealc")"
# The exec died with the container, so its recorder usually seals before poststop runs; when it
# has not, the hook signals it (hook_runc.sh shows that path with a stand-in recorder).
how="by the recorder"
grep -qs "sealed .* open session" "$T/ttyaudit.log" && how="signalled by the poststop hook"
ok "container deleted with a session open: session sealed ($(session_meta "${ids[0]}" | jq -r .state), $how), metadata and session list removed"
