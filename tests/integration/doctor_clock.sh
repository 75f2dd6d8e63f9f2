#!/usr/bin/env bash
# `ttyaudit doctor` compares this node's clock with the bucket's (the Date header of s3rver's
# answer). With the machine's clock the check is ok and says how far off it is. With doctor's
# own clock moved (libfaketime, on doctor's process only): 30 s ahead warns and exits 0; 10 min
# ahead fails with the offset in its message and exit 1, while the bucket still takes requests
# (SigV4 allows 15 min); 20 min behind, the bucket refuses every request (RequestTimeTooSkewed)
# and the clock check still says by how much. --json carries the offset.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/doctor.sh"

command -v faketime >/dev/null || fail "faketime not installed (make deps)"
start_doctor_node

# skewed SECONDS ARGS...: doctor with its clock moved by SECONDS (+ ahead, - behind).
skewed() { FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$1" "$BIN/ttyaudit" doctor \
  --containerd-config "$T/containerd.toml" --docker-config "$T/no-daemon.json" "${@:2}"; }

rc=0
out=$(doctor --json) || rc=$?
assert_eq "$rc" 0 "exit code with the machine's clock"
assert_eq "$(not_ok "$out")" "" "checks not ok"
assert_eq "$(check_field "$out" clock .status)" ok "clock check"
off=$(check_field "$out" clock .values.offset_s)
err=$(check_field "$out" clock .values.error_s)
awk -v o="$off" -v e="$err" 'BEGIN {exit !((o < 0 ? -o : o) <= e + 0.01 && e >= 0.5 && e < 5)}' ||
  fail "offset $off +- $err with the machine's own clock"
assert_contains "$(check_field "$out" clock .detail)" "the bucket's (+-" "clock detail"
ok "the machine's clock: clock ok, offset $off s +- $err s, exit 0"

# A clock that fakes the time tells it: the check itself must see the move.
[[ $(FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+600" date +%s) -ge $(($(date +%s) + 590)) ]] ||
  fail "faketime does not move the clock here"

rc=0
out=$(skewed "+30" --json) || rc=$?
assert_eq "$rc" 0 "exit code 30 s ahead (a warning)"
assert_eq "$(check_field "$out" clock .status)" warn "clock check 30 s ahead"
assert_eq "$(not_ok "$out")" clock "checks not ok 30 s ahead"
ok "30 s ahead: a warning ($(check_field "$out" clock .detail | cut -c1-60)...), exit 0"

rc=0
out=$(skewed "+600" --json) || rc=$?
assert_eq "$rc" 1 "exit code 10 min ahead"
assert_eq "$(not_ok "$out")" clock "checks not ok 10 min ahead (the bucket still answers)"
detail=$(check_field "$out" clock .detail)
[[ $detail =~ this\ node\'s\ clock\ is\ (59[89]|60[0-2])\.[0-9]\ s\ ahead\ of\ the\ bucket\'s ]] ||
  fail "10 min ahead: no offset in [$detail]"
awk -v o="$(check_field "$out" clock .values.offset_s)" 'BEGIN {exit !(o > -602 && o < -598)}' ||
  fail "offset_s $(check_field "$out" clock .values.offset_s), want about -600"
assert_contains "$(check_field "$out" clock .fix)" "synchronise the clock" "clock fix"
text=$(skewed "+600") || true
grep -q "^FAIL  clock: this node's clock is 60[0-2]\.[0-9] s ahead\|^FAIL  clock: this node's clock is 59[89]\.[0-9] s ahead" <<<"$text" ||
  { echo "$text" >&2; fail "no clock failure in the text report"; }
ok "10 min ahead: clock fails with the offset ($(cut -c1-70 <<<"$detail")...), exit 1"

rc=0
out=$(skewed "-1200" --json) || rc=$?
assert_eq "$rc" 1 "exit code 20 min behind"
assert_eq "$(check_field "$out" clock .status)" fail "clock check 20 min behind"
[[ $(check_field "$out" clock .detail) =~ (119[89]|120[0-2])\.[0-9]\ s\ behind ]] ||
  fail "20 min behind: no offset in [$(check_field "$out" clock .detail)]"
assert_contains "$(check_field "$out" store .detail)" "RequestTimeTooSkewed" "store check 20 min behind"
ok "20 min behind: the bucket refuses (RequestTimeTooSkewed), the clock check says by how much"
