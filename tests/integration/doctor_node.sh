#!/usr/bin/env bash
# `ttyaudit doctor` on a good node (runc found, a containerd handler runs ttyaudit-runtime, a
# root-only spool, the tracker hub and the uploader running, an s3rver bucket that takes a
# probe) exits 0; then each broken setting alone gives its message, its fix and exit 1: no
# runc, containerd not pointed at ttyaudit-runtime, a spool of mode 0777, an unreachable bucket.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/doctor.sh"

RUNC=$(command -v runc) || fail "runc not installed (make deps)"
start_doctor_node

rc=0
out=$(doctor --json) || rc=$?
echo "$out" | jq -r '.checks[] | "\(.status) \(.name): \(.detail)"'
assert_eq "$rc" 0 "exit code on a good node"
assert_eq "$(not_ok "$out")" "" "checks not ok"
assert_eq "$(jq -r '[.checks[].name] | join(",")' <<<"$out")" \
  "runc,containerd,docker,spool,tracker,uploader,store,clock,object lock,node key" "checks run"
assert_contains "$(jq -r '.checks[] | select(.name == "runc") | .detail' <<<"$out")" \
  "$("$RUNC" --version | head -n 1)" "runc check names the runc"
# The running uploader publishes the node key (keys/); doctor itself leaves nothing behind.
assert_eq "$(bucket_keys doctor/ | grep -v "^doctor/keys/" || true)" "" "probe objects left in the bucket"
ok "a good node: every check ok, exit 0, no probe left in the bucket"

# expect_failure NAME TEXT: doctor exits 1, and its text output has NAME failing with TEXT.
expect_failure() {
  local rc=0 text
  text=$(doctor) || rc=$?
  assert_eq "$rc" 1 "exit code with a broken $1"
  grep -q "^FAIL  $1: .*$2" <<<"$text" || { echo "$text" >&2; fail "no [$2] for $1"; }
  grep -A1 "^FAIL  $1: " <<<"$text" | grep -q "fix: " || fail "no fix for $1"
  ok "broken $1: exit 1, \"$(grep "^FAIL  $1: " <<<"$text" | cut -c1-80)...\""
}

jq '.runc = "/nonexistent/runc"' "$T/config.json" >"$T/no-runc.json"
TTYAUDIT_CONFIG="$T/no-runc.json" expect_failure runc "finds no runc"

cp "$T/containerd.toml" "$T/good.toml"
sed -i "s|BinaryName = .*|BinaryName = \"$RUNC\"|" "$T/containerd.toml"
expect_failure containerd "no runtime handler runs ttyaudit-runtime"
cp "$T/good.toml" "$T/containerd.toml"

chmod 0777 "$T/spool"
expect_failure spool "mode 0777"
chmod 0700 "$T/spool"

jq '.s3.endpoint = "http://127.0.0.1:1"' "$T/config.json" >"$T/no-bucket.json"
TTYAUDIT_CONFIG="$T/no-bucket.json" expect_failure store "cannot write"

rc=0
doctor >/dev/null || rc=$?
assert_eq "$rc" 0 "exit code once everything is mended"
ok "mended again: exit 0"
