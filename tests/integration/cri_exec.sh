#!/usr/bin/env bash
# `kubectl exec` as kubelet and kubectl do it: containerd's CRI plugin runs a pod with the
# "ttyaudit" runtime handler of examples/containerd/config.toml; Exec with a tty is attached
# over a WebSocket (v4.channel.k8s.io), typed into, resized and left with `exit 3`. The record
# names the namespace, pod, container, image and node CRI gave, holds both sizes, and the
# client got exit status 3. A non-tty exec and ExecSync leave metadata records with their exit
# codes; a pod of the plain runc handler leaves no record.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"
. "$(dirname "$0")/../lib/cri.sh"

use_ttyaudit_config
start_cri_containerd

pod=$(cri_pod web-cri payments ttyaudit)
cid=$(cri_container "$pod" web-cri shell sleep 1000)
ok "RunPodSandbox (handler ttyaudit), CreateContainer, StartContainer"

# kubectl exec -it: the first resize is the client's terminal size, then the script.
cat >"$T/tty-steps.json" <<'JSON'
[{"resize": [100, 30]}, {"expect": "/ #"},
 {"send": "echo typed-$((6*7))\r"}, {"expect": "typed-42"},
 {"resize": [120, 40]}, {"sleep": 0.5},
 {"send": "stty size\r"}, {"expect": "40 120"},
 {"send": "exit 3\r"}]
JSON
res=$(cri exec "$cid" "$T/tty-steps.json" --tty --stdin -- sh)
assert_eq "$(jq -r .protocol <<<"$res")" v4.channel.k8s.io "subprotocol"
assert_eq "$(jq -r .exit_code <<<"$res")" 3 "exit status on the error channel ($(jq -r .status <<<"$res"))"
ok "tty exec over the streaming server: typed, resized (stty size 40 120), exit 3 came back"

mapfile -t ids < <(terminal_sessions)
assert_eq "${#ids[@]}" 1 "terminal sessions recorded"
id=${ids[0]}
wait_sealed "$id"
m=$(session_meta "$id")
assert_eq "$(jq -r .state <<<"$m")" exited "state"
assert_eq "$(jq -r .exit_code <<<"$m")" 3 "recorded exit code"
assert_eq "$(jq -r .runtime <<<"$m")" kubernetes-cri "runtime"
assert_eq "$(jq -r .namespace <<<"$m")" payments "namespace"
assert_eq "$(jq -r .pod <<<"$m")" web-cri "pod"
assert_eq "$(jq -r .pod_uid <<<"$m")" "uid-web-cri-${T##*.}" "pod uid"
assert_eq "$(jq -r .container <<<"$m")" shell "container"
assert_eq "$(jq -r .image <<<"$m")" "$BUSYBOX_IMAGE" "image"
assert_eq "$(jq -r .container_id <<<"$m")" "$cid" "container id"
assert_eq "$(jq -r .node <<<"$m")" "$(uname -n)" "node"
assert_eq "$(jq -c .argv <<<"$m")" '["sh"]' "argv"
ok "metadata: namespace, pod, pod uid, container, image, node and exit 3 as CRI gave them"
out=$(session_output "$id")
for want in typed-42 "40 120" "exit 3"; do assert_contains "$out" "$want" "recorded output"; done
sizes=$(session_events "$id" r | jq -r .)
assert_contains "$sizes" "100x30" "initial size"
assert_contains "$sizes" "120x40" "resized size"
ok "record: output, sizes 100x30 and 120x40"
# What an auditor asks: the sessions of pod web-cri in namespace payments on this node.
found=$("$BIN/ttyaudit" search --json --namespace payments --pod web-cri --container shell \
  --node "$(uname -n)" --image "$BUSYBOX_IMAGE" | jq -r .id)
assert_eq "$found" "$id" "ttyaudit search by namespace, pod, container, node and image"
ok "ttyaudit search finds the session by namespace, pod, container, node and image"

# kubectl exec -i (no tty): stdin, stdout and stderr apart, exit 4; a metadata-only record.
printf '[{"send": "hello\\n"}]' >"$T/plain-steps.json"
res=$(cri exec "$cid" "$T/plain-steps.json" --stdin -- \
  sh -c 'read line; echo got-$line; echo to-stderr >&2; exit 4')
assert_eq "$(jq -r .stdout <<<"$res")" got-hello "non-tty stdout"
assert_eq "$(jq -r .stderr <<<"$res")" to-stderr "non-tty stderr"
assert_eq "$(jq -r .exit_code <<<"$res")" 4 "non-tty exit status"
ok "non-tty exec: stdin, stdout, stderr and exit 4 through the streaming server"

# exec_record TEXT: the sealed record whose argv contains TEXT.
exec_record() {
  local sid
  for _ in $(seq 50); do
    sid=$(session_with_argv "$1")
    [[ -n $sid && -f "$SPOOL/$sid.json" ]] && { session_meta "$sid"; return 0; }
    sleep 0.1
  done
  fail "no sealed record of [$1] (spool: $(ls "$SPOOL"))"
}
check_exec_record() {  # META EXIT_CODE WHAT
  assert_eq "$(jq -r .terminal <<<"$1")" false "$3: terminal"
  assert_eq "$(jq -r .exit_code <<<"$1")" "$2" "$3: exit code"
  assert_eq "$(jq -r .bytes_out <<<"$1")" 0 "$3: metadata only"
  assert_eq "$(jq -r .namespace <<<"$1")" payments "$3: namespace"
  assert_eq "$(jq -r .pod <<<"$1")" web-cri "$3: pod"
  assert_eq "$(jq -r .container <<<"$1")" shell "$3: container"
  assert_eq "$(jq -r .image <<<"$1")" "$BUSYBOX_IMAGE" "$3: image"
}
check_exec_record "$(exec_record "echo got-")" 4 "non-tty exec"
ok "non-tty exec: a metadata record with pod, container, image and exit 4"

res=$(cri exec-sync "$cid" 10 -- sh -c 'echo sync-out; exit 5')
assert_eq "$(jq -r .stdout <<<"$res")" sync-out "ExecSync stdout"
assert_eq "$(jq -r .exit_code <<<"$res")" 5 "ExecSync exit code"
check_exec_record "$(exec_record "echo sync-out")" 5 "ExecSync"
ok "ExecSync: output and exit 5 to the caller, a metadata record with exit 5"

# A pod of the plain runc handler: the same exec leaves nothing.
before=$(sessions | wc -l)
pod2=$(cri_pod web-plain payments runc)
cid2=$(cri_container "$pod2" web-plain shell sleep 1000)
res=$(cri exec "$cid2" "$T/tty-steps.json" --tty --stdin -- sh)
assert_eq "$(jq -r .exit_code <<<"$res")" 3 "exit status in the runc pod"
cri exec-sync "$cid2" 10 -- true >/dev/null
sleep 1
assert_eq "$(sessions | wc -l)" "$before" "sessions after execs in the runc pod"
ok "a pod of the runc handler is not recorded"
# Info lines ("recording under seccomp") are fine; anything else is an error or a warning.
if grep -v ': info: ' "$T/ttyaudit.log" | grep -q .; then
  cat "$T/ttyaudit.log" >&2
  fail "ttyaudit-runtime logged errors"
fi
