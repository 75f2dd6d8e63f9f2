#!/usr/bin/env bash
# `ttyaudit correlate` end to end: an exec recorded through ttyaudit-runtime in a container with
# the annotations containerd's CRI sets, and a kube-apiserver audit log holding the pods/exec
# request that opened it (written at the session's start, in the audit.k8s.io/v1 shape) among
# a request for another pod and one refused: correlate, reading the spool itself, names the
# Kubernetes user, groups and source IP of the session, and records them only with --record.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

start_ttyaudit_containerd
ctr_run_bg api-0 "$T/rootfs" "$BIN/ttyaudit-runtime" \
  --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-namespace=payments \
  --annotation io.kubernetes.cri.sandbox-name=api-0 \
  --annotation io.kubernetes.cri.container-name=app \
  --annotation io.kubernetes.cri.image-name=busybox:test \
  -- sleep 1000

received=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
ctr_exec_tty api-0 k1 sh -c 'echo correlate-me' >/dev/null
id=$(session_with_argv "echo correlate-me")
[[ -n $id ]] || fail "no session recorded"
wait_sealed "$id"

ev() {  # ev AUDIT_ID USER POD CODE
  jq -cn --arg id "$1" --arg user "$2" --arg pod "$3" --argjson code "$4" --arg ts "$received" '{
    kind: "Event", apiVersion: "audit.k8s.io/v1", level: "Metadata", auditID: $id,
    stage: "ResponseStarted",
    requestURI: "/api/v1/namespaces/payments/pods/\($pod)/exec?command=sh&command=-c&command=echo+correlate-me&container=app&stdin=true&stdout=true&tty=true",
    verb: "create", user: {username: $user, groups: ["system:authenticated", "payments-oncall"]},
    sourceIPs: ["198.51.100.23"], userAgent: "kubectl/v1.29.3",
    objectRef: {resource: "pods", namespace: "payments", name: $pod, apiVersion: "v1", subresource: "exec"},
    responseStatus: {metadata: {}, code: $code},
    requestReceivedTimestamp: $ts, stageTimestamp: $ts}'
}
{
  ev other bob api-1 101
  ev refused mallory api-0 403
  ev opened alice@example.com api-0 101
} >"$T/audit.log"
out=$("$BIN/ttyaudit" correlate --k8s-audit-log "$T/audit.log" --json 2>"$T/err") ||
  fail "correlate: $(cat "$T/err")"
assert_eq "$(jq -sc 'map(.id)' <<<"$out")" "[\"$id\"]" "matched sessions"
assert_eq "$(jq -r .k8s.user <<<"$out")" alice@example.com "user"
assert_eq "$(jq -c .k8s.groups <<<"$out")" '["system:authenticated","payments-oncall"]' "groups"
assert_eq "$(jq -c .k8s.source_ips <<<"$out")" '["198.51.100.23"]' "source IPs"
assert_eq "$(jq -r .k8s.audit_id <<<"$out")" opened "audit id"
# Without --record, correlate only prints: nothing is written into the store.
assert_eq "$("$BIN/ttyaudit" search --user alice@example.com --json | wc -l)" 0 \
  "search --user before correlate --record"
# With --record the identity is recorded with the session: search finds its Kubernetes user.
"$BIN/ttyaudit" correlate --k8s-audit-log "$T/audit.log" --record >/dev/null 2>"$T/err" ||
  fail "correlate --record: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "1 identities recorded, 0 failed" "correlate --record's summary"
found=$("$BIN/ttyaudit" search --user alice@example.com --json)
assert_eq "$(jq -r .id <<<"$found")" "$id" "search --user finds the Kubernetes user"
assert_eq "$(jq -r .k8s.source_ips[0] <<<"$found")" 198.51.100.23 "identity in search --json"
assert_eq "$("$BIN/ttyaudit" search --user bob --json | wc -l)" 0 "a distractor's user matches nothing"
ok "session $id opened by alice@example.com from 198.51.100.23 (+$(jq -r .k8s.delay_s <<<"$out")s)"
