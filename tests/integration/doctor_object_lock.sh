#!/usr/bin/env bash
# `ttyaudit doctor` reads back the Object Lock the config asks for. Without s3.object_lock the
# check is ok. With it, against s3rver, which keeps no Object Lock (it has no bucket Object
# Lock configuration to read, and returns a probe written with lock headers without them), the
# check fails with both findings and the fix, exit 1, and its probe object is not left in the
# bucket; --json carries the check. The lock that doctor asks for is the config's mode.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/doctor.sh"

start_doctor_node

rc=0
out=$(doctor --json) || rc=$?
assert_eq "$rc" 0 "exit code without Object Lock configured"
assert_eq "$(check_field "$out" "object lock" .status)" ok "object lock check, none configured"
assert_contains "$(check_field "$out" "object lock" .detail)" "none configured" "object lock detail"
ok "no Object Lock configured: the check is ok, exit 0"

jq '.s3.object_lock = {"mode": "COMPLIANCE", "days": 30}' "$T/config.json" >"$T/locked.json"
rc=0
out=$(TTYAUDIT_CONFIG="$T/locked.json" doctor --json) || rc=$?
assert_eq "$rc" 1 "exit code with Object Lock configured but missing"
assert_eq "$(not_ok "$out")" "object lock" "checks not ok"
detail=$(check_field "$out" "object lock" .detail)
assert_contains "$detail" "configured COMPLIANCE for 30 days, but " "object lock detail"
assert_contains "$detail" "the bucket's Object Lock configuration cannot be read" "object lock detail"
assert_contains "$detail" "NotImplemented" "object lock detail"
assert_contains "$detail" "a probe written with COMPLIANCE until " "object lock detail"
assert_contains "$detail" "came back without Object Lock" "object lock detail"
assert_contains "$(check_field "$out" "object lock" .fix)" "put-object-lock-configuration" "object lock fix"
text=$(TTYAUDIT_CONFIG="$T/locked.json" doctor) || true
grep -q "^FAIL  object lock: configured COMPLIANCE for 30 days, but " <<<"$text" ||
  { echo "$text" >&2; fail "no object lock failure in the text report"; }
assert_eq "$(bucket_keys doctor/doctor-probe/)" "" "probe objects left in the bucket"
ok "Object Lock configured, s3rver keeps none: fails with both findings and the fix, exit 1, no probe left"
