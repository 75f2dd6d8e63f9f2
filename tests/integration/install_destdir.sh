#!/usr/bin/env bash
# `make install DESTDIR=... PREFIX=/usr` after a normal build (configured for /usr/local): the
# binaries land stripped in /usr/bin and answer --version with the project's version, the
# systemd units and examples name /usr/bin, /etc/ttyaudit/config.json is 0600 and never
# overwritten; `make uninstall` removes everything but that config.
. "$(dirname "$0")/../lib/common.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mk() { make -s -C "$ROOT" BUILD="${BUILD:-build}" "$@"; }
[[ -f "$ROOT/${BUILD:-build}/CMakeCache.txt" ]] || skip "no build (run make first)"
command -v readelf >/dev/null || skip "readelf not installed (binutils)"
version=$(sed -n 's/^project(ttyaudit VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
[[ -n $version ]] || fail "no project version in CMakeLists.txt"
bins=(ttyaudit ttyaudit-runtime ttyaudit-runtime-full ttyaudit-hook ttyaudit-uploader ttyaudit-rec
  ttyaudit-tracker)

D="$T/root"
mk install DESTDIR="$D" PREFIX=/usr >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "make install"; }
[[ ! -e "$D/usr/local" ]] || fail "something went to /usr/local: $(find "$D/usr/local" | head)"
for b in "${bins[@]}"; do
  f="$D/usr/bin/$b"
  [[ -f $f ]] || fail "$b not in /usr/bin"
  assert_eq "$(stat -c %a "$f")" 755 "mode of $b"
  readelf -S "$f" | grep -q '\.symtab' && fail "$b is not stripped"
  if [[ $b == ttyaudit-runtime ]]; then
    # It is runc to its callers: --version is runc's, ttyaudit's own is --ttyaudit-version.
    out=$("$f" --ttyaudit-version)
  else
    out=$("$f" --version)
  fi
  assert_eq "$out" "$b $version" "$b's version"
done
ok "binaries in /usr/bin: 0755, stripped, --version says $version"
if runc=$(command -v runc); then
  assert_eq "$("$D/usr/bin/ttyaudit-runtime" --version)" "$("$runc" --version)" "ttyaudit-runtime --version"
  ok "ttyaudit-runtime --version is runc's"
fi
# The lean binaries still load only libc once stripped (a sanitizer build adds its runtimes,
# libasan and libubsan, as runtime_front.sh allows).
for b in ttyaudit-runtime ttyaudit-rec ttyaudit-tracker; do
  needed=$(readelf -d "$D/usr/bin/$b" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
    grep -Ev '^(libc\.so\.6|ld-linux.*|libasan\.so.*|libubsan\.so.*)$' || true)
  [[ -z $needed ]] || fail "$b needs more than libc: $needed"
done
ok "ttyaudit-runtime, ttyaudit-rec, ttyaudit-tracker load only libc"

for u in ttyaudit-tracker ttyaudit-uploader; do
  f="$D/usr/lib/systemd/system/$u.service"
  [[ -f $f ]] || fail "$u.service not installed"
  assert_eq "$(stat -c %a "$f")" 644 "mode of $u.service"
  assert_eq "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f")" "/usr/bin/$u" "$u.service ExecStart"
  grep -q /usr/local "$f" && fail "$u.service still names /usr/local"
done
ok "units in /usr/lib/systemd/system start /usr/bin's binaries"

ex="$D/usr/share/doc/ttyaudit/examples"
grep -q '^ *BinaryName = "/usr/bin/ttyaudit-runtime"$' "$ex/containerd/config.toml" ||
  fail "the installed containerd example does not name /usr/bin/ttyaudit-runtime"
jq -e '.runtimes.ttyaudit.path == "/usr/bin/ttyaudit-runtime"' "$ex/docker/daemon.json" >/dev/null ||
  fail "the installed Docker example does not name /usr/bin/ttyaudit-runtime"
(cd "$ROOT/examples" && find . -type f | sort) >"$T/want-examples"
(cd "$ex" && find . -type f | sort) >"$T/got-examples"
diff "$T/want-examples" "$T/got-examples" >&2 || fail "installed examples differ from examples/"
ok "examples in /usr/share/doc/ttyaudit/examples, pointing at /usr/bin"

cfg="$D/etc/ttyaudit/config.json"
[[ -f $cfg ]] || fail "no /etc/ttyaudit/config.json"
assert_eq "$(stat -c '%a %U %G' "$cfg")" "600 root root" "config mode and owner"
cmp -s "$cfg" "$ROOT/examples/config.json" || fail "the config is not examples/config.json"
ok "/etc/ttyaudit/config.json: root's, 0600"

# An operator's config survives a reinstall, as do its mode and owner.
echo '{"spool_dir": "/srv/spool"}' >"$cfg"
chmod 0640 "$cfg"
mk install DESTDIR="$D" PREFIX=/usr >"$T/install2.log" 2>&1 || { cat "$T/install2.log" >&2; fail "second make install"; }
assert_eq "$(cat "$cfg")" '{"spool_dir": "/srv/spool"}' "config after a reinstall"
assert_eq "$(stat -c %a "$cfg")" 640 "config mode after a reinstall"
ok "a reinstall keeps the existing config"

# Without PREFIX: /usr/local, and the units follow.
mk install DESTDIR="$T/root2" >"$T/install3.log" 2>&1 || { cat "$T/install3.log" >&2; fail "make install (default prefix)"; }
[[ -x "$T/root2/usr/local/bin/ttyaudit-runtime" ]] || fail "default prefix: no /usr/local/bin/ttyaudit-runtime"
assert_eq "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$T/root2/usr/local/lib/systemd/system/ttyaudit-uploader.service")" \
  /usr/local/bin/ttyaudit-uploader "default prefix: ExecStart"
ok "without PREFIX: /usr/local/bin, units under /usr/local/lib/systemd/system"

mk uninstall DESTDIR="$D" PREFIX=/usr >"$T/uninstall.log" 2>&1 || { cat "$T/uninstall.log" >&2; fail "make uninstall"; }
left=$(cd "$D" && find . ! -type d | sort)
assert_eq "$left" "./etc/ttyaudit/config.json" "files left after uninstall"
[[ ! -e "$D/usr/share/doc/ttyaudit" ]] || fail "uninstall left /usr/share/doc/ttyaudit"
ok "make uninstall removes binaries, units and examples, and keeps the config"
