#!/usr/bin/env bash
# The node side refuses what an ordinary user could have planted: a config that user owns or
# anyone can write, a spool anyone can write, and a session file dropped into the spool, which
# the uploader quarantines and never archives.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

user="tta$$"
useradd --no-create-home --shell /usr/sbin/nologin "$user" || fail "useradd $user"
on_exit "userdel $user"

# A config owned by the user (as if it had written one where root reads it).
cp "$TTYAUDIT_CONFIG" "$T/user-config.json"
chown "$user" "$T/user-config.json"
set +e
out=$(TTYAUDIT_CONFIG="$T/user-config.json" "$TA" search 2>&1)
rc=$?
set -e
((rc != 0)) || fail "a config owned by $user was accepted"
assert_contains "$out" "owned by uid $(id -u "$user")" "the reason names the owner"
set +e
out=$(TTYAUDIT_CONFIG="$T/user-config.json" "$BIN/ttyaudit-uploader" --once 2>&1)
rc=$?
set -e
((rc != 0)) || fail "the uploader accepted a config owned by $user"
ok "a config owned by an ordinary user is refused, with the reason"

# World-writable, even though root owns it. (The runtime's front reads it through the same
# check, config/trust.h, and logs its refusal to the default log_file, which a test must not.)
cp "$TTYAUDIT_CONFIG" "$T/open-config.json"
chmod 0666 "$T/open-config.json"
set +e
out=$(TTYAUDIT_CONFIG="$T/open-config.json" "$TA" search 2>&1); rc=$?
set -e
((rc != 0)) || fail "a world-writable config was accepted"
assert_contains "$out" "mode 666" "the reason names the mode"
# In a directory others can write (not sticky), a root-owned 0644 config is refused as well.
mkdir -m 0777 "$T/opendir"
cp "$TTYAUDIT_CONFIG" "$T/opendir/config.json"
set +e
out=$(TTYAUDIT_CONFIG="$T/opendir/config.json" "$TA" search 2>&1); rc=$?
set -e
((rc != 0)) || fail "a config in a world-writable directory was accepted"
assert_contains "$out" "config directory" "the reason names the directory"
ok "a world-writable config, or one in a world-writable directory, is refused"

# A spool that anyone can write.
mkdir -m 0777 "$SPOOL"
chmod 0777 "$SPOOL"
set +e
"$TA" rec -q -- sh -c 'echo ran' </dev/null >"$T/rec.out" 2>"$T/rec.err"
out=$("$BIN/ttyaudit-uploader" --once 2>&1); rc=$?
set -e
assert_contains "$(cat "$T/rec.err")" "has mode 777" "the recorder refuses the spool"
assert_eq "$(ls "$SPOOL")" "" "nothing recorded into a 0777 spool"
((rc != 0)) || fail "the uploader accepted a 0777 spool"
assert_contains "$out" "has mode 777"
chown "$user" "$SPOOL" && chmod 0700 "$SPOOL"
set +e
out=$("$BIN/ttyaudit-uploader" --once 2>&1); rc=$?
set -e
((rc != 0)) || fail "the uploader accepted a spool owned by $user"
assert_contains "$out" "owned by uid"
chown root "$SPOOL"
ok "a spool open to others, or owned by another user, is refused"

# A real session, then forged ones dropped in beside it.
"$TA" rec -q -- sh -c 'echo genuine-session' </dev/null >/dev/null 2>&1 || fail "rec failed"
genuine=$(ls "$SPOOL" | sed -n 's/\.json$//p')
[[ -n $genuine ]] || fail "no genuine session"
# 1. Written by the user, then moved in (as a looser spool would have let it): the user's file.
forged1=$(python3 -c 'import uuid; print(uuid.uuid4())')
sed "s/$genuine/$forged1/g" "$SPOOL/$genuine.cast" >"$T/forged1.cast"
sed "s/$genuine/$forged1/g" "$SPOOL/$genuine.json" >"$T/forged1.json"
chown "$user" "$T/forged1.cast" "$T/forged1.json"
mv "$T/forged1.cast" "$SPOOL/$forged1.cast"
mv "$T/forged1.json" "$SPOOL/$forged1.json"
# 2. Owned by root, but the recording was edited after it was sealed.
forged2=$(python3 -c 'import uuid; print(uuid.uuid4())')
sed "s/genuine-session/innocent-session/g" "$SPOOL/$genuine.cast" | sed "s/$genuine/$forged2/g" >"$SPOOL/$forged2.cast"
sed "s/$genuine/$forged2/g" "$SPOOL/$genuine.json" >"$SPOOL/$forged2.json"
set +e
"$BIN/ttyaudit-uploader" --once >"$T/up.log" 2>&1
set -e
for f in "$forged1" "$forged2"; do
  [[ -e "$SPOOL/quarantine/$f.cast" ]] || fail "forged session $f not quarantined: $(cat "$T/up.log")"
  [[ -z $(find "$T/archive" -name "$f.*") ]] || fail "forged session $f was archived"
  grep "QUARANTINED session $f" "$T/up.log" >/dev/null || fail "no loud log line for $f"
done
grep "QUARANTINED session $forged1" "$T/up.log" | grep -q "owned by uid $(id -u "$user")" ||
  fail "the reason for $forged1 does not name its owner"
grep "QUARANTINED session $forged2" "$T/up.log" | grep -q "chain" ||
  fail "the reason for $forged2 does not name the chain"
[[ -n $(find "$T/archive/sessions" -name "$genuine.cast") ]] || fail "the genuine session was not archived"
ids=$("$TA" search --json | jq -r .id)
assert_eq "$ids" "$genuine" "search lists only the genuine session"
ok "forged sessions are quarantined and logged, never archived; the genuine one ships"
