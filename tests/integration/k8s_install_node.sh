#!/usr/bin/env bash
# examples/kubernetes/install-node.sh, what the DaemonSet runs, against a temporary node root
# whose containerd config has settings of its own: the binaries and config land, containerd
# itself (config dump) sees the ttyaudit handler beside every setting the node had, a second
# run changes nothing, and --uninstall gives the node's config back byte for byte; the same
# with --all-pods, which makes ttyaudit containerd's default runtime and the runc handler's runc
# ttyaudit-runtime.
. "$(dirname "$0")/../lib/common.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT="$ROOT/examples/kubernetes/install-node.sh"
command -v containerd >/dev/null || skip "containerd not installed (make deps)"

# What the DaemonSet's image holds: bin/ and config.json.
mkdir -p "$T/image/bin"
for b in ttyaudit ttyaudit-runtime ttyaudit-runtime-full ttyaudit-hook ttyaudit-uploader \
  ttyaudit-rec ttyaudit-tracker; do
  cp "$BIN/$b" "$T/image/bin/"
done
echo '{"spool_dir": "/var/lib/ttyaudit/spool"}' >"$T/image/config.json"

node="$T/node"
mkdir -p "$node/etc/containerd"
cat >"$node/etc/containerd/config.toml" <<'TOML'
version = 2
root = "/var/lib/containerd"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.example/pause:3.9"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
TOML
chmod 0640 "$node/etc/containerd/config.toml"
cp -p "$node/etc/containerd/config.toml" "$T/original.toml"

bash "$SCRIPT" --root "$node" --from "$T/image" >"$T/install.log" 2>&1 ||
  { cat "$T/install.log" >&2; fail "install-node.sh"; }
for b in ttyaudit-runtime ttyaudit-runtime-full ttyaudit-tracker; do
  cmp -s "$node/usr/local/bin/$b" "$BIN/$b" || fail "$b not installed"
  assert_eq "$(stat -c %a "$node/usr/local/bin/$b")" 755 "mode of $b"
done
assert_eq "$(stat -c %a "$node/etc/ttyaudit/config.json")" 600 "config mode"
cmp -s "$node/etc/ttyaudit/config.json" "$T/image/config.json" || fail "config not installed"
assert_eq "$(stat -c %a "$node/etc/containerd/config.toml")" 640 "containerd config mode kept"
ok "binaries in /usr/local/bin, /etc/ttyaudit/config.json 0600"

# containerd's own reading of the result.
dump() { containerd --config "$node/etc/containerd/config.toml" config dump 2>"$T/dump.err"; }
d=$(dump) || { cat "$T/dump.err" >&2; fail "containerd cannot read the config"; }
python3 - "$d" <<'PY' || fail "containerd's view of the config differs (above)"
import sys, tomllib
c = tomllib.loads(sys.argv[1])["plugins"]["io.containerd.grpc.v1.cri"]
rt = c["containerd"]["runtimes"]
problems = []
def want(what, got, value):
    if got != value: problems.append(f"{what}: {got!r}, want {value!r}")
want("sandbox_image", c["sandbox_image"], "registry.example/pause:3.9")
want("registry.config_path", c["registry"]["config_path"], "/etc/containerd/certs.d")
want("default runtime", c["containerd"]["default_runtime_name"], "runc")
want("runc SystemdCgroup", rt["runc"]["options"]["SystemdCgroup"], True)
want("ttyaudit runtime_type", rt.get("ttyaudit", {}).get("runtime_type"), "io.containerd.runc.v2")
want("ttyaudit BinaryName", rt.get("ttyaudit", {}).get("options", {}).get("BinaryName"),
     "/usr/local/bin/ttyaudit-runtime")
want("ttyaudit SystemdCgroup", rt.get("ttyaudit", {}).get("options", {}).get("SystemdCgroup"), True)
if problems:
    sys.stderr.write("; ".join(problems) + "\n")
    sys.exit(1)
PY
ok "containerd sees the ttyaudit handler and every setting the node had"

# Again (a DaemonSet pod restarts): nothing changes, an operator's config.json stays.
cp "$node/etc/containerd/config.toml" "$T/after-first.toml"
echo '{"spool_dir": "/srv/spool"}' >"$node/etc/ttyaudit/config.json"
bash "$SCRIPT" --root "$node" --from "$T/image" >"$T/install2.log" 2>&1 ||
  { cat "$T/install2.log" >&2; fail "second install-node.sh"; }
cmp -s "$node/etc/containerd/config.toml" "$T/after-first.toml" || fail "second run changed the config"
assert_eq "$(cat "$node/etc/ttyaudit/config.json")" '{"spool_dir": "/srv/spool"}' "config after a rerun"
ok "a second run changes nothing and keeps the node's config.json"

bash "$SCRIPT" --root "$node" --uninstall >"$T/uninstall.log" 2>&1 ||
  { cat "$T/uninstall.log" >&2; fail "install-node.sh --uninstall"; }
cmp -s "$node/etc/containerd/config.toml" "$T/original.toml" ||
  { diff "$T/original.toml" "$node/etc/containerd/config.toml" >&2; fail "uninstall did not restore the containerd config"; }
[[ ! -e "$node/usr/local/bin/ttyaudit-runtime" ]] || fail "uninstall left ttyaudit-runtime"
[[ -e "$node/etc/ttyaudit/config.json" ]] || fail "uninstall removed the config"
ok "--uninstall restores containerd's config byte for byte, keeps /etc/ttyaudit"

# --all-pods: the default runtime is ttyaudit and the runc handler runs ttyaudit-runtime too
# (what containerd reads), and the node's runc options stay; --uninstall undoes that as well.
bash "$SCRIPT" --root "$node" --from "$T/image" --all-pods >"$T/all-pods.log" 2>&1 ||
  { cat "$T/all-pods.log" >&2; fail "install-node.sh --all-pods"; }
d=$(dump) || { cat "$T/dump.err" >&2; fail "containerd cannot read the --all-pods config"; }
python3 - "$d" <<'PY' || fail "containerd's view of the --all-pods config differs (above)"
import sys, tomllib
c = tomllib.loads(sys.argv[1])["plugins"]["io.containerd.grpc.v1.cri"]
rt = c["containerd"]["runtimes"]
for name in ("runc", "ttyaudit"):
    opts = rt[name]["options"]
    if opts.get("BinaryName") != "/usr/local/bin/ttyaudit-runtime" or opts.get("SystemdCgroup") is not True:
        sys.exit(f"{name} options: {opts}")
if c["containerd"]["default_runtime_name"] != "ttyaudit":
    sys.exit(f"default runtime: {c['containerd']['default_runtime_name']!r}, want 'ttyaudit'")
if c["sandbox_image"] != "registry.example/pause:3.9":
    sys.exit(f"sandbox_image: {c['sandbox_image']!r}")
PY
bash "$SCRIPT" --root "$node" --uninstall >"$T/uninstall2.log" 2>&1 || fail "--uninstall after --all-pods"
cmp -s "$node/etc/containerd/config.toml" "$T/original.toml" || fail "--all-pods was not undone"
ok "--all-pods: the default runtime is ttyaudit, the runc handler runs ttyaudit-runtime, options kept; --uninstall undoes it"

# A handler configured by hand is left alone; a version 1 config is refused untouched.
printf '%s\n' 'version = 2' '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ttyaudit]' \
  '  runtime_type = "io.containerd.runc.v2"' >"$node/etc/containerd/config.toml"
cp "$node/etc/containerd/config.toml" "$T/by-hand.toml"
bash "$SCRIPT" --root "$node" --from "$T/image" >"$T/install3.log" 2>&1 || fail "install over a handler by hand"
cmp -s "$node/etc/containerd/config.toml" "$T/by-hand.toml" || fail "a handler by hand was changed"
printf '%s\n' '[plugins.cri]' '  sandbox_image = "x"' >"$node/etc/containerd/config.toml"
cp "$node/etc/containerd/config.toml" "$T/v1.toml"
rc=0
bash "$SCRIPT" --root "$node" --from "$T/image" >"$T/install4.log" 2>&1 || rc=$?
[[ $rc != 0 ]] || fail "a version 1 config was accepted"
cmp -s "$node/etc/containerd/config.toml" "$T/v1.toml" || fail "a version 1 config was changed"
grep -q "not a version 2 config" "$T/install4.log" || fail "no reason given: $(cat "$T/install4.log")"
ok "a handler by hand is kept; a version 1 config is refused, unchanged, with the reason"
