#!/usr/bin/env bash
# `ttyaudit verify` proves sealed sessions complete and unchanged: it passes on the untouched
# archive and fails, naming the reason, on every kind of tampering: a changed, inserted, removed
# or reordered byte, a truncated recording, a changed manifest, a wrong or missing signature, an
# unknown key, and a deleted session (the gap in the node's session numbers).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

for i in 1 2 3; do
  "$TA" rec -q -- sh -c "for n in 1 2 3 4 5 6; do echo session-$i-line-\$n; sleep 0.05; done" \
    </dev/null >/dev/null 2>&1 || fail "rec $i failed"
done
[[ $(ls "$SPOOL"/*.json | wc -l) == 3 ]] || fail "want 3 sealed sessions in the spool"
"$TA" verify --all >"$T/spool-verify" || fail "verify of the spool failed: $(cat "$T/spool-verify")"
assert_eq "$(grep -c '^PENDING' "$T/spool-verify")" 3 "spool sessions: chain intact, not yet signed"
assert_eq "$("$TA" search --json | jq -r .evidence | sort | uniq -c | xargs)" "3 pending" \
  "search: sessions in the spool are pending"

"$BIN/ttyaudit-uploader" --once 2>"$T/uploader.log" || fail "uploader: $(cat "$T/uploader.log")"
[[ $(stat -c %a "$T/node.key") == 600 ]] || fail "node key is not 0600"
keys=$(find "$T/archive/keys" -name '*.pub')
[[ -n $keys ]] || fail "no public key published in the archive"
cat $keys >"$T/trusted.keys"  # what an auditor keeps aside
key_id=$(basename $keys .pub)
assert_eq "$("$TA" search --json | jq -r '.evidence + " " + .signed_by' | sort | uniq -c | xargs)" \
  "3 signed $key_id" "search: archived sessions were checked and signed by the node key"
"$TA" search >"$T/table"
assert_contains "$(head -n1 "$T/table")" "EVIDENCE" "the table's header"
assert_eq "$(grep -c " signed " "$T/table")" 3 "the table's rows"

"$TA" verify --all --keys "$T/trusted.keys" >"$T/out" || fail "untouched archive: $(cat "$T/out")"
assert_eq "$(grep -c '^OK' "$T/out")" 3 "three sessions verified"
ok "the untouched archive verifies: chain, signature, sequence"

ids=($(ls "$T/archive/index/"*/*/ | sed -n 's/\.json$//p' | sort))
victim=${ids[1]}

# tamper NAME EXPECTED-TEXT COMMAND: runs COMMAND on a fresh copy of the archive (in $A, with
# the victim's files $CAST, $MANIFEST, $SIG), then verify must fail and say EXPECTED-TEXT.
tamper() {
  local name=$1 want=$2; shift 2
  A="$T/copy-$name"
  rm -rf "$A" && cp -a "$T/archive" "$A"
  CAST=$(find "$A/sessions" -name "$victim.cast")
  MANIFEST=${CAST%.cast}.json SIG=${CAST%.cast}.sig
  "$@"
  set +e
  TTYAUDIT_CONFIG="$T/config-$name.json" "$TA" --store "file://$A" verify --all \
    --keys "${KEYS:-$T/trusted.keys}" >"$T/out-$name" 2>&1
  local rc=$?
  set -e
  ((rc == 1)) || fail "$name: verify exited $rc, want 1: $(cat "$T/out-$name")"
  grep -qF -- "$want" "$T/out-$name" || fail "$name: [$want] not in: $(cat "$T/out-$name")"
  ok "$name: verify fails: $want"
}
# The copies are read as their own store, without the spool.
for n in changed inserted removed reordered truncated truncatedmid header manifest badsig nosig unknownkey deleted untouched; do
  printf '{"spool_dir":"%s","archive_dir":"%s"}\n' "$T/empty-spool-$n" "$T/copy-$n" >"$T/config-$n.json"
done

flip_output_byte() { sed -i 's/session-2-line-3/session-2-line-8/' "$CAST"; }
insert_byte() { sed -i 's/session-2-line-3/session-2-line-33/' "$CAST"; }
remove_byte() { sed -i 's/session-2-line-3/session-2-line-/' "$CAST"; }
# Two event lines of the same block swap places: every byte is still there.
reorder_lines() {
  python3 - "$CAST" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
i = next(i for i, l in enumerate(lines) if b"session-2-line-3" in l)
j = next(j for j in range(i + 1, len(lines)) if lines[j].startswith(b"[") and b'"h"' not in lines[j])
lines[i], lines[j] = lines[j], lines[i]
open(sys.argv[1], "wb").write(b"\n".join(lines))
PY
}
# Cut at the end of a chain line: what is left is a well-formed chain, only shorter.
truncate_at_link() {
  python3 - "$CAST" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
ends = [i + 1 for i in range(len(data)) if data[i:i + 1] == b"\n" and data.rfind(b'"h"', 0, i) > data.rfind(b"\n", 0, i)]
assert len(ends) >= 2, ends
open(sys.argv[1], "wb").write(data[:ends[-2]])
PY
}
# Cut inside a block: the bytes after the last whole chain line are covered by nothing.
truncate_mid_block() {
  python3 - "$CAST" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
ends = [i + 1 for i in range(len(data)) if data[i:i + 1] == b"\n" and data.rfind(b'"h"', 0, i) > data.rfind(b"\n", 0, i)]
assert len(ends) >= 2, ends
open(sys.argv[1], "wb").write(data[:ends[-2] + 12])
PY
}
# The header, which the recorder rewrites at the end and the chain does not cover: the
# session's user changed, in place, same length.
edit_header() {
  head -n1 "$CAST" | grep -q '"user":"root"' || fail "no user root in the header: $(head -n1 "$CAST")"
  sed -i '1s/"user":"root"/"user":"toor"/' "$CAST"
}
edit_manifest() { sed -i 's/"exit_code":0/"exit_code":1/' "$MANIFEST"; }
bad_signature() {
  python3 - "$SIG" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
s = bytearray(base64.b64decode(d["signature"])); s[10] ^= 1
d["signature"] = base64.b64encode(bytes(s)).decode()
open(sys.argv[1], "w").write(json.dumps(d))
PY
}
remove_signature() { rm -f "$SIG"; }
delete_session() {
  rm -f "${CAST%.cast}".* "$(find "$A/index" -name "$victim.json")"
}
other_key() {
  openssl genpkey -algorithm ed25519 -outform DER -out "$T/other.der" 2>/dev/null
  python3 - "$T/other.der" "$(hostname)" >"$T/other.keys" <<'PY'
import base64, hashlib, subprocess, sys
der = open(sys.argv[1], "rb").read()
pub = subprocess.run(["openssl", "pkey", "-inform", "DER", "-in", sys.argv[1], "-pubout",
                      "-outform", "DER"], capture_output=True, check=True).stdout[-32:]
print("ttyaudit-ed25519", hashlib.sha256(pub).hexdigest()[:16], base64.b64encode(pub).decode(), sys.argv[2])
PY
}

tamper changed "does not match its chain line" flip_output_byte
tamper inserted "does not match its chain line" insert_byte
tamper removed "does not match its chain line" remove_byte
tamper reordered "does not match its chain line" reorder_lines
tamper truncated "(truncated)" truncate_at_link
tamper truncatedmid "are not covered by the chain" truncate_mid_block
tamper header "the header line was changed" edit_header
tamper manifest "the manifest was changed" edit_manifest
tamper badsig "the signature does not verify" bad_signature
tamper nosig "no signature" remove_signature
other_key
KEYS="$T/other.keys" tamper unknownkey "unknown key" true
tamper deleted "is missing: a session was deleted" delete_session

A="$T/copy-untouched"
cp -a "$T/archive" "$A"
TTYAUDIT_CONFIG="$T/config-untouched.json" "$TA" --store "file://$A" verify --all \
  --keys "$T/trusted.keys" >"$T/out-untouched" || fail "untouched copy: $(cat "$T/out-untouched")"
"$TA" verify "$victim" --keys "$T/trusted.keys" >/dev/null || fail "verify ID of the untouched archive"
ok "the untouched copy still verifies"
