#!/usr/bin/env bash
# The Kubernetes examples pass kubectl's client-side dry run (against a loopback server that
# serves only API discovery: kubectl maps every apiVersion and kind, nothing is created): the
# plain manifests with -f, the kustomize base and the all-pods overlay with -k. They hang
# together: the RuntimeClass's handler is the containerd example's, the pod names the
# RuntimeClass, the DaemonSet runs install-node.sh with the node's paths it writes mounted, and
# its uploader takes the bucket credentials from the Secret. The overlay is the base with
# --all-pods, and install-node.sh run with the arguments the overlay renders, against a
# temporary node root, leaves a containerd config whose default runtime is ttyaudit (what
# containerd itself reads), and --uninstall gives the node's config back byte for byte.
. "$(dirname "$0")/../lib/common.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K8S=$ROOT/examples/kubernetes
command -v kubectl >/dev/null || fail "kubectl not installed (make deps: kubernetes-client)"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml not installed (make deps)"
command -v containerd >/dev/null || fail "containerd not installed (make deps)"

/usr/bin/python3 "$ROOT/tests/lib/kube_discovery.py" "$T/port" &
track_pid $!
wait_for 10 test -s "$T/port"
server="http://127.0.0.1:$(cat "$T/port")"
kube() { KUBECONFIG=/dev/null kubectl --server "$server" --cache-dir "$T/kube-cache" "$@"; }
count_docs() {
  /usr/bin/python3 -c 'import sys, yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$1"
}

manifests=("$K8S"/*.yaml "$K8S"/base/daemonset.yaml)
for f in "${manifests[@]}"; do
  name=${f#"$K8S"/}
  out=$(kube apply --dry-run=client --validate=false -f "$f" 2>&1) || fail "dry run of $name: $out"
  objects=$(count_docs "$f")
  assert_eq "$(grep -c ' created (dry run)$' <<<"$out")" "$objects" "objects of $name in the dry run"
  ok "$name: $objects objects pass kubectl's client-side dry run"
done

for dir in base all-pods; do
  kubectl kustomize "$K8S/$dir" >"$T/$dir.yaml" 2>"$T/$dir.err" ||
    fail "kubectl kustomize $dir: $(cat "$T/$dir.err")"
  [[ ! -s $T/$dir.err ]] || fail "kubectl kustomize $dir warns: $(cat "$T/$dir.err")"
  out=$(kube apply --dry-run=client --validate=false -k "$K8S/$dir" 2>&1) || fail "dry run of -k $dir: $out"
  objects=$(count_docs "$T/$dir.yaml")
  assert_eq "$(grep -c ' created (dry run)$' <<<"$out")" "$objects" "objects of -k $dir in the dry run"
  ok "kustomize $dir: $objects objects render and pass the dry run"
done

# The overlay is the base with --all-pods added to the install command, and nothing else.
/usr/bin/python3 - "$T/base.yaml" "$T/all-pods.yaml" "$T/all-pods.args" <<'PY' || fail "the all-pods overlay (above)"
import sys, yaml
base = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
over = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
def init_command(docs):
    ds = [d for d in docs if d["kind"] == "DaemonSet"]
    assert len(ds) == 1, f"{len(ds)} DaemonSets"
    return ds[0]["spec"]["template"]["spec"]["initContainers"][0]["command"]
base_cmd, over_cmd = init_command(base), init_command(over)
if "--all-pods" in base_cmd:
    sys.exit(f"the base already records every pod: {base_cmd}")
if over_cmd != base_cmd + ["--all-pods"]:
    sys.exit(f"overlay's install command {over_cmd}, want the base's {base_cmd} + --all-pods")
with open(sys.argv[3], "w") as f:
    f.write("\n".join(over_cmd[1:]) + "\n")
over_cmd.remove("--all-pods")
if over != base:
    sys.exit("the overlay changes more than the install command")
PY
ok "all-pods overlay: the base's DaemonSet with install-node.sh --all-pods, nothing else"

# install-node.sh run as the overlay's init container runs it, the node's / a temporary root.
mkdir -p "$T/image/bin" "$T/node/etc/containerd"
for b in ttyaudit ttyaudit-runtime ttyaudit-runtime-full ttyaudit-hook ttyaudit-uploader \
  ttyaudit-rec ttyaudit-tracker; do
  cp "$BIN/$b" "$T/image/bin/"
done
echo '{"spool_dir": "/var/lib/ttyaudit/spool"}' >"$T/image/config.json"
# A node whose config has a CRI section but neither the containerd table nor a runc handler.
printf '%s\n' 'version = 2' '' '[plugins."io.containerd.grpc.v1.cri"]' \
  '  sandbox_image = "registry.example/pause:3.9"' >"$T/node/etc/containerd/config.toml"
cp "$T/node/etc/containerd/config.toml" "$T/original.toml"
mapfile -t args <"$T/all-pods.args"
for i in "${!args[@]}"; do
  case ${args[i]} in
    --root) args[i + 1]=$T/node ;;
    --from) args[i + 1]=$T/image ;;
  esac
done
bash "$K8S/install-node.sh" "${args[@]}" >"$T/install.log" 2>&1 ||
  { cat "$T/install.log" >&2; fail "install-node.sh ${args[*]}"; }
containerd --config "$T/node/etc/containerd/config.toml" config dump >"$T/dump.toml" 2>"$T/dump.err" ||
  { cat "$T/dump.err" >&2; fail "containerd cannot read the all-pods config"; }
python3 - "$T/dump.toml" <<'PY' || { cat "$T/install.log" "$T/node/etc/containerd/config.toml" >&2; fail "containerd's view of the all-pods config (above)"; }
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))["plugins"]["io.containerd.grpc.v1.cri"]
default = c["containerd"]["default_runtime_name"]
rt = c["containerd"]["runtimes"]
problems = []
if default != "ttyaudit":
    problems.append(f"default runtime {default!r}, want 'ttyaudit'")
for name in ("ttyaudit", "runc"):
    binary = rt.get(name, {}).get("options", {}).get("BinaryName")
    if binary != "/usr/local/bin/ttyaudit-runtime":
        problems.append(f"{name} handler's BinaryName {binary!r}")
if c["sandbox_image"] != "registry.example/pause:3.9":
    problems.append(f"sandbox_image {c['sandbox_image']!r}")
if problems:
    sys.exit("; ".join(problems))
PY
ok "install-node.sh ${args[*]##*/}: containerd's default runtime is ttyaudit, its runc handler runs ttyaudit-runtime"
bash "$K8S/install-node.sh" --root "$T/node" --uninstall >"$T/uninstall.log" 2>&1 ||
  { cat "$T/uninstall.log" >&2; fail "install-node.sh --uninstall"; }
cmp -s "$T/node/etc/containerd/config.toml" "$T/original.toml" ||
  { diff "$T/original.toml" "$T/node/etc/containerd/config.toml" >&2; fail "--uninstall left the all-pods config"; }
ok "--uninstall gives the node's containerd config back byte for byte"

/usr/bin/python3 - "$ROOT" <<'PY' || fail "the manifests do not hang together (above)"
import glob, os, re, sys, yaml
root = sys.argv[1]
files = sorted(glob.glob(f"{root}/examples/kubernetes/*.yaml")) + [
    f"{root}/examples/kubernetes/base/daemonset.yaml"]
docs = [d for f in files for d in yaml.safe_load_all(open(f)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
problems = []
def check(cond, what):
    if not cond: problems.append(what)

handlers = re.findall(r'^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.([a-z0-9-]+)\]',
                      open(f"{root}/examples/containerd/config.toml").read(), re.M)
rc = by_kind["RuntimeClass"][0]
check(rc["handler"] in handlers, f"RuntimeClass handler {rc['handler']} not in {handlers}")
for pod in by_kind.get("Pod", []):
    check(pod["spec"].get("runtimeClassName") == rc["metadata"]["name"],
          f"pod {pod['metadata']['name']} does not use the RuntimeClass")

ds = by_kind["DaemonSet"][0]
spec = ds["spec"]["template"]["spec"]
check(spec.get("hostPID") is True, "the tracker needs hostPID")
check(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
      "selector does not match the template")
volumes = {v["name"]: v for v in spec["volumes"]}
init = spec["initContainers"][0]
check(os.path.basename(init["command"][0]) == "install-node.sh", "init container runs install-node.sh")
host_root = init["command"][init["command"].index("--root") + 1]
mounted = {m["mountPath"]: m["name"] for m in init["volumeMounts"]}
for path in ["/usr/local/bin", "/etc/ttyaudit", "/etc/containerd", "/var/lib/ttyaudit"]:
    name = mounted.get(host_root + path)
    check(name is not None and volumes[name].get("hostPath", {}).get("path") == path,
          f"install-node.sh writes {path}: not mounted from the node at {host_root}{path}")
containers = {c["name"]: c for c in spec["containers"]}
up = containers["uploader"]
secret = by_kind["Secret"][0]["metadata"]["name"]
check(any(e.get("secretRef", {}).get("name") == secret for e in up.get("envFrom", [])),
      "the uploader does not take the Secret's credentials")
check(set(by_kind["Secret"][0]["stringData"]) >= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
      "the Secret lacks AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
for name in ["tracker", "uploader"]:
    mounts = {m["mountPath"] for m in containers[name]["volumeMounts"]}
    check("/run/ttyaudit" in mounts, f"{name} does not share the node's /run/ttyaudit")
check("/var/lib/ttyaudit" in {m["mountPath"] for m in up["volumeMounts"]},
      "the uploader does not see the node's spool")
ns = {d["metadata"].get("namespace") for d in docs if d["kind"] in ("Secret", "ConfigMap", "DaemonSet")}
check(ns == {by_kind["Namespace"][0]["metadata"]["name"]}, f"objects spread over namespaces {ns}")
if problems:
    sys.stderr.write("\n".join(problems) + "\n")
    sys.exit(1)
PY
ok "RuntimeClass, pod, DaemonSet, Secret and install-node.sh agree"
