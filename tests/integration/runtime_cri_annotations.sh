#!/usr/bin/env bash
# A container whose config.json carries the annotations containerd's CRI gives a Kubernetes
# pod's container: the session's metadata names the namespace, pod, pod uid, container and
# image, and the secret-looking env values of the exec are redacted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

start_ttyaudit_containerd
ctr_run_bg web-1 "$T/rootfs" "$BIN/ttyaudit-runtime" \
  --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-id=0123456789abcdef \
  --annotation io.kubernetes.cri.sandbox-namespace=payments \
  --annotation io.kubernetes.cri.sandbox-name=web-7d9f8-abcde \
  --annotation io.kubernetes.cri.sandbox-uid=5b1a2c3d-0000-4000-8000-000000000001 \
  --annotation io.kubernetes.cri.container-name=nginx \
  --annotation io.kubernetes.cri.image-name=docker.io/library/nginx:1.25 \
  --env API_TOKEN=s3cr3t-t0ken --env DB_PASSWORD=hunter2 --env LANG=C.UTF-8 \
  -- sleep 1000

out=$(ctr_exec_tty web-1 x1 sh -c 'echo in-pod; exit 0')
assert_contains "$out" in-pod "client output"
id=$(session_with_argv "echo in-pod")
[[ -n $id ]] || fail "no session recorded"
wait_sealed "$id"
m=$(session_meta "$id")
assert_eq "$(jq -r .runtime <<<"$m")" kubernetes-cri "runtime"
assert_eq "$(jq -r .namespace <<<"$m")" payments "namespace"
assert_eq "$(jq -r .pod <<<"$m")" web-7d9f8-abcde "pod"
assert_eq "$(jq -r .pod_uid <<<"$m")" 5b1a2c3d-0000-4000-8000-000000000001 "pod uid"
assert_eq "$(jq -r .container <<<"$m")" nginx "container"
assert_eq "$(jq -r .image <<<"$m")" docker.io/library/nginx:1.25 "image"
assert_eq "$(jq -r .container_id <<<"$m")" web-1 "container id"
assert_eq "$(jq -r .env.LANG <<<"$m")" C.UTF-8 "plain env value kept"
assert_eq "$(jq -r .env.API_TOKEN <<<"$m")" "[redacted]" "API_TOKEN redacted"
assert_eq "$(jq -r .env.DB_PASSWORD <<<"$m")" "[redacted]" "DB_PASSWORD redacted"
grep -q 's3cr3t-t0ken\|hunter2' "$SPOOL/$id.cast" "$SPOOL/$id.json" && fail "a secret reached the record"
ok "metadata: namespace payments, pod web-7d9f8-abcde, container nginx, image, secrets redacted"
# search --namespace finds it, and only it: no session is in another namespace.
found=$("$BIN/ttyaudit" search --json --namespace payments) || fail "search --namespace payments failed"
assert_eq "$(jq -r .id <<<"$found")" "$id" "search --namespace payments"
assert_eq "$(jq -r .pod <<<"$found")" web-7d9f8-abcde "search --namespace payments: pod"
other=$("$BIN/ttyaudit" search --json --namespace default) || fail "search --namespace default failed"
assert_eq "$other" "" "search --namespace default"
ok "ttyaudit search --namespace payments finds it, --namespace default does not"
# The session files under its pod: uploaded, its storage key names namespace, pod and container.
cp "$SPOOL/$id.cast" "$T/orig.cast"
jq --arg s "file://$T/store" '.store = $s' "$T/config.json" >"$T/upload.json"
TTYAUDIT_CONFIG="$T/upload.json" "$BIN/ttyaudit-uploader" --once || fail "uploader --once failed"
day=$(date -u -d "@$(($(jq -r .start_ns <<<"$m") / 1000000000))" +%F)
key="sessions/date=$day/payments/web-7d9f8-abcde/nginx/$id.cast"
[[ -f "$T/store/$key" ]] || fail "not stored at $key: $(cd "$T/store" && find . -type f)"
cmp "$T/store/$key" "$T/orig.cast" || fail "the stored session differs from the recording"
ok "stored at $key"
