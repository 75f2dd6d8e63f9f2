#!/usr/bin/env bash
# The node side refuses what an ordinary user could have planted. An ordinary user made by the
# test rewrites a world-writable config to name its own runc, and drops a forged session (chain
# and manifest well made) into a 0777 spool: the config and the spool are refused, with the
# reason; once the spool is 0700 root again the forged sessions left in it are quarantined and
# logged, never archived, and the genuine one ships.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

user="tta$$"
useradd --no-create-home --shell /usr/sbin/nologin "$user" || fail "useradd $user"
on_exit "userdel $user"
as_user() { runuser -u "$user" -- "$@"; }
# The user may reach by name what the test opens to it, and list nothing else of $T.
chmod 0711 "$T"

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

# World-writable, even though root owns it: the user rewrites it to run its own "runc" as root.
# (The runtime's front reads it through the same check, config/trust.h, and logs its refusal to
# the default log_file, which a test must not.)
cp "$TTYAUDIT_CONFIG" "$T/open-config.json"
chmod 0666 "$T/open-config.json"
as_user sh -c "printf '{\"spool_dir\":\"%s\",\"runc\":\"/tmp/not-runc\"}\n' '$SPOOL' >'$T/open-config.json'" ||
  fail "$user could not write the world-writable config"
assert_contains "$(cat "$T/open-config.json")" "not-runc" "the user's edit"
assert_eq "$(stat -c '%U %a' "$T/open-config.json")" "root 666" "still root's, mode 666"
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

# A spool that anyone can write: the user drops a forged session into it, well made (chained,
# with a manifest that matches), as anyone who has read docs/EVIDENCE.md could.
mkdir -m 0777 "$SPOOL"
chmod 0777 "$SPOOL"
forged1=$(python3 -c 'import uuid; print(uuid.uuid4())')
install -d -o "$user" -m 0700 "$T/forge"
install -o "$user" -m 0644 "$(dirname "$0")/../lib/castchain.py" "$T/forge/castchain.py"
as_user env PYTHONPATH="$T/forge" python3 - "$SPOOL" "$forged1" "$(hostname)" <<'PY' || fail "$user could not write into the 0777 spool"
import castchain, json, os, sys, time
spool, sid, node = sys.argv[1:4]
now = time.time_ns()
meta = {"id": sid, "source": "host", "node": node, "user": "root", "uid": 0, "argv": ["/bin/sh"],
        "width": 80, "height": 24, "start_ns": now - 10**9, "state": "recording"}
header = json.dumps({"version": 2, "width": 80, "height": 24, "timestamp": now // 10**9,
                     "ttyaudit": meta})
cast = os.path.join(spool, sid + ".cast")
open(cast, "w").write(header + "\n")
castchain.append(cast, [json.dumps([0.5, "o", "nothing to see here\r\n"]) + "\n"])
meta.update(state="exited", exit_code=0, end_ns=now)
json.dump({"manifest_version": 1, "session": meta, "commands": [],
           "chain": castchain.manifest_chain(cast)}, open(os.path.join(spool, sid + ".json"), "w"))
PY
assert_eq "$(stat -c %U "$SPOOL/$forged1.cast")" "$user" "the forged recording is the user's"
set +e
"$TA" rec -q -- sh -c 'echo ran' </dev/null >"$T/rec.out" 2>"$T/rec.err"
out=$("$BIN/ttyaudit-uploader" --once 2>&1); rc=$?
set -e
assert_contains "$(cat "$T/rec.err")" "has mode 777" "the recorder refuses the spool"
assert_eq "$(ls "$SPOOL" | grep -vc "^$forged1\.")" "0" "nothing recorded into a 0777 spool"
((rc != 0)) || fail "the uploader accepted a 0777 spool"
assert_contains "$out" "has mode 777"
[[ -z $(find "$T/archive" -name "$forged1.*" 2>/dev/null) ]] || fail "forged session archived from a 0777 spool"
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
genuine=$(ls "$SPOOL" | sed -n 's/\.json$//p' | grep -v "^$forged1\$")
[[ -n $genuine ]] || fail "no genuine session"
# 1. The user's, dropped in while the spool was 0777 (above), still there.
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
