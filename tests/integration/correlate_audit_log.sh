#!/usr/bin/env bash
# `ttyaudit correlate` on a kube-apiserver audit log (audit.k8s.io/v1 JSON lines) written in
# the published Event shape: exec requests among distractors (pod reads, attach, log, a refused
# exec, an exec to another pod, a configmap named "exec", a broken line) are matched to
# sessions given as `search --json` lines, each to the request that opened it. Then the same
# log padded with distractor events to CORRELATE_MIB (default 256) MiB is read fast.
. "$(dirname "$0")/../lib/common.sh"

TA="$BIN/ttyaudit"
[[ -x "$TA" ]] || fail "no $TA (make)"
ev() {  # ev ID STAGE VERB RESOURCE SUB NS NAME URI USER TIME CODE
  jq -cn --arg id "$1" --arg st "$2" --arg verb "$3" --arg res "$4" --arg sub "$5" --arg ns "$6" \
    --arg name "$7" --arg uri "$8" --arg user "$9" --arg ts "${10}" --argjson code "${11}" '{
    kind: "Event", apiVersion: "audit.k8s.io/v1", level: "Metadata", auditID: $id, stage: $st,
    requestURI: $uri, verb: $verb,
    user: {username: $user, uid: "u-\($user)", groups: ["system:authenticated", "devs"]},
    sourceIPs: ["192.0.2.10"], userAgent: "kubectl/v1.30.2 (linux/amd64) kubernetes/abc",
    objectRef: ({resource: $res, namespace: $ns, name: $name, apiVersion: "v1"}
      + (if $sub == "" then {} else {subresource: $sub} end)),
    responseStatus: {metadata: {}, code: $code},
    requestReceivedTimestamp: $ts, stageTimestamp: $ts,
    annotations: {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}}'
}
uri() { echo "/api/v1/namespaces/$1/pods/$2/exec?command=$3&container=$4&stdin=true&stdout=true&tty=true"; }
log="$T/audit.log"
{
  ev a1 RequestReceived create pods exec shop web-1 "$(uri shop web-1 sh app)" alice 2026-11-25T09:00:00.000000Z 0
  ev a1 ResponseStarted create pods exec shop web-1 "$(uri shop web-1 sh app)" alice 2026-11-25T09:00:00.000000Z 101
  ev d1 ResponseComplete get pods "" shop web-1 /api/v1/namespaces/shop/pods/web-1 bob 2026-11-25T09:00:00.100000Z 200
  ev d2 ResponseStarted create pods attach shop web-1 "/api/v1/namespaces/shop/pods/web-1/attach?container=app" bob 2026-11-25T09:00:00.200000Z 101
  ev d3 ResponseComplete get pods log shop web-1 /api/v1/namespaces/shop/pods/web-1/log bob 2026-11-25T09:00:00.300000Z 200
  ev d4 ResponseComplete create pods exec shop web-1 "$(uri shop web-1 sh app)" mallory 2026-11-25T09:00:00.400000Z 403
  ev d5 ResponseStarted create pods exec shop web-2 "$(uri shop web-2 sh app)" carol 2026-11-25T09:00:00.500000Z 101
  ev d6 ResponseComplete get configmaps "" shop exec /api/v1/namespaces/shop/configmaps/exec bob 2026-11-25T09:00:00.600000Z 200
  echo '{"kind":"Event","auditID":"broken","objectRef":{"subresource":"exec"'
  ev a2 ResponseStarted create pods exec shop web-1 "$(uri shop web-1 'bash&command=-l' app)" dave 2026-11-25T09:10:00.000000Z 101
} >"$log"
{
  jq -cn '{id: "s-alice", source: "runtime", namespace: "shop", pod: "web-1", container: "app",
           argv: ["sh"], start: "2026-11-25T09:00:00.420Z"}'
  jq -cn '{id: "s-dave", source: "runtime", namespace: "shop", pod: "web-1", container: "app",
           argv: ["bash", "-l"], start: "2026-11-25T09:10:00.300Z"}'
  jq -cn '{id: "s-nobody", source: "runtime", namespace: "shop", pod: "web-1", container: "app",
           argv: ["sh"], start: "2026-11-25T11:00:00Z"}'
  jq -cn '{id: "s-host", source: "host", argv: ["bash"], start: "2026-11-25T09:00:00.420Z"}'
} >"$T/sessions.jsonl"

out=$("$TA" correlate --k8s-audit-log "$log" --sessions "$T/sessions.jsonl" --json 2>"$T/err")
assert_eq "$(jq -sc 'map([.id, .k8s.user])' <<<"$out")" '[["s-alice","alice"],["s-dave","dave"]]' "matches"
assert_eq "$(jq -sc '.[0].k8s.groups' <<<"$out")" '["system:authenticated","devs"]' "groups"
assert_eq "$(jq -sc '.[0].k8s.source_ips' <<<"$out")" '["192.0.2.10"]' "source IPs"
assert_eq "$(jq -sc '.[0].k8s.audit_id' <<<"$out")" '"a1"' "audit id"
assert_contains "$(cat "$T/err")" "1 malformed" "the broken line is counted"
ok "2 of 4 sessions matched to their exec requests among distractors"

mib=${CORRELATE_MIB:-256}
filler=$(ev f ResponseComplete list pods "" shop "" /api/v1/namespaces/shop/pods?limit=500 system:serviceaccount:kube-system:replicaset-controller 2026-11-25T08:00:00.000000Z 200)
{ (set +o pipefail; yes "$filler" | head -c $((mib << 20)) | head -n -1); cat "$log"; } >"$T/big.log"
start=$(date +%s.%N)
big=$("$TA" correlate --k8s-audit-log "$T/big.log" --sessions "$T/sessions.jsonl" --json 2>"$T/err")
secs=$(echo "$(date +%s.%N) - $start" | bc)
assert_eq "$(jq -sc 'map(.id)' <<<"$big")" '["s-alice","s-dave"]' "matches in the big log"
rate=$(echo "$mib / $secs" | bc)
ok "read a $mib MiB audit log in ${secs}s (${rate} MiB/s)"
# ~1 GiB/s from the page cache on an idle 2-core VM; the floor leaves room for a busy machine.
((rate >= 50)) || fail "audit log read at ${rate} MiB/s, want >= 50"
