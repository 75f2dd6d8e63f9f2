#!/usr/bin/env bash
# ttyaudit-hook in a real runc container: added to a bundle that already has hooks, it saves the
# container's metadata at createRuntime (pid, bundle, annotations, cgroup), the hooks that were
# there still run, and at delete (poststop) it signals the container's listed recorder and
# removes the metadata.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
[[ -x "$BIN/ttyaudit-hook" ]] || fail "no $BIN/ttyaudit-hook (make)"
make_busybox_rootfs "$T/bundle/rootfs"
export TTYAUDIT_RUN_DIR="$T/run"
export TTYAUDIT_CONFIG="$T/config.json"
printf '{"log_file":"%s"}\n' "$T/ttyaudit.log" >"$TTYAUDIT_CONFIG"

# A bundle as a runtime manager would hand it over: its own hooks and annotations already in.
(cd "$T/bundle" && "$RUNC" spec)
jq --arg t "$T" '.process.terminal = false | .process.args = ["sleep", "1000"]
  | .annotations = {"io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.sandbox-namespace": "team-a", "io.kubernetes.cri.sandbox-name": "web-0",
      "io.kubernetes.cri.container-name": "app", "io.kubernetes.cri.image-name": "busybox:test"}
  | .hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > \($t)/existing-create.json"]}],
              "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > \($t)/existing-poststop.json"]}]}' \
  "$T/bundle/config.json" >"$T/config.tmp" && mv "$T/config.tmp" "$T/bundle/config.json"

"$BIN/ttyaudit-hook" install "$T/bundle" || fail "install the hook"
"$BIN/ttyaudit-hook" install "$T/bundle" || fail "install the hook a second time"
assert_eq "$(jq '.hooks.createRuntime | length' "$T/bundle/config.json")" 2 "createRuntime hooks"
assert_eq "$(jq '.hooks.poststop | length' "$T/bundle/config.json")" 2 "poststop hooks"

id="ttyaudit-hook-$$"
root="$T/runc-root"
on_exit "'$RUNC' --root '$root' delete --force '$id'"
"$RUNC" --root "$root" run -d --bundle "$T/bundle" "$id" </dev/null >"$T/ctr.out" 2>&1 ||
  { cat "$T/ctr.out" "$T/ttyaudit.log" >&2 2>/dev/null; fail "runc run"; }
init_pid=$("$RUNC" --root "$root" state "$id" | jq -r .pid)

meta="$T/run/containers/$id.json"
[[ -f "$meta" ]] || { cat "$T/ttyaudit.log" >&2 2>/dev/null; fail "no metadata at $meta"; }
assert_eq "$(jq -r .pid "$meta")" "$init_pid" "init pid"
assert_eq "$(jq -r .bundle "$meta")" "$T/bundle" "bundle"
assert_eq "$(jq -r .namespace "$meta")" team-a "namespace"
assert_eq "$(jq -r .pod "$meta")" web-0 "pod"
assert_eq "$(jq -r .container "$meta")" app "container"
assert_eq "$(jq -r .image "$meta")" busybox:test "image"
# The cgroup is the container's: one of its init process's, named after the container (runc's
# default for a config.json without cgroupsPath).
cgroup=$(jq -r .cgroup "$meta")
cut -d: -f3- "/proc/$init_pid/cgroup" | grep -qxF -- "$cgroup" ||
  fail "cgroup [$cgroup] is not one of the init process's: $(tr '\n' ' ' <"/proc/$init_pid/cgroup")"
[[ $cgroup == */"$id" ]] || fail "cgroup [$cgroup] is not named after the container $id"
[[ -f "$T/existing-create.json" ]] || fail "the createRuntime hook already in config.json did not run"
assert_eq "$(jq -r .id "$T/existing-create.json")" "$id" "state given to the existing hook"
ok "createRuntime: metadata saved (pid $init_pid, cgroup $(jq -r .cgroup "$meta")), existing hook ran"

# A stand-in recorder listed for this container, as a recorder lists itself.
sleep 300 &
rec=$!
track_pid "$rec"
start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$rec/stat")
(umask 077 && mkdir -p "$T/run/sessions/$id")  # the run dir is 0700, as the hub makes it
echo "$rec $start" >"$T/run/sessions/$id/session-1.pid"

"$RUNC" --root "$root" kill "$id" KILL
wait_for 10 bash -c "'$RUNC' --root '$root' state '$id' | jq -e '.status == \"stopped\"'"
"$RUNC" --root "$root" delete "$id" || fail "runc delete"
wait_for 5 bash -c "! kill -0 $rec"
wait "$rec" 2>/dev/null && fail "the recorder exited normally, not by the seal signal" || rc=$?
assert_eq "$rc" $((128 + 15)) "recorder ended by SIGTERM"
[[ ! -e "$meta" ]] || fail "metadata still there after delete"
[[ ! -e "$T/run/sessions/$id" ]] || fail "sessions list still there after delete"
[[ -f "$T/existing-poststop.json" ]] || fail "the poststop hook already in config.json did not run"
grep -q "sealed 1 open session" "$T/ttyaudit.log" || fail "no seal in the log: $(cat "$T/ttyaudit.log")"
ok "poststop: recorder signalled, metadata removed, existing hook ran"
