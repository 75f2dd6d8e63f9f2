#!/usr/bin/env bash
# examples/kubernetes/*.yaml pass kubectl's client-side dry run (against a loopback server that
# serves only API discovery: kubectl maps every apiVersion and kind, nothing is created), and
# hang together: the RuntimeClass's handler is the containerd example's, the pod names the
# RuntimeClass, the DaemonSet runs install-node.sh with the node's paths it writes mounted, and
# its uploader takes the bucket credentials from the Secret.
. "$(dirname "$0")/../lib/common.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v kubectl >/dev/null || skip "kubectl not installed (make deps: kubernetes-client)"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed (make deps)"

/usr/bin/python3 "$ROOT/tests/lib/kube_discovery.py" "$T/port" &
track_pid $!
wait_for 10 test -s "$T/port"
server="http://127.0.0.1:$(cat "$T/port")"
for f in "$ROOT"/examples/kubernetes/*.yaml; do
  out=$(KUBECONFIG=/dev/null kubectl --server "$server" --cache-dir "$T/kube-cache" \
    apply --dry-run=client --validate=false -f "$f" 2>&1) || fail "dry run of $(basename "$f"): $out"
  objects=$(/usr/bin/python3 -c 'import sys, yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$f")
  assert_eq "$(grep -c ' created (dry run)$' <<<"$out")" "$objects" "objects of $(basename "$f") in the dry run"
  ok "$(basename "$f"): $objects objects pass kubectl's client-side dry run"
done

/usr/bin/python3 - "$ROOT" <<'PY' || fail "the manifests do not hang together (above)"
import glob, os, re, sys, yaml
root = sys.argv[1]
docs = [d for f in sorted(glob.glob(f"{root}/examples/kubernetes/*.yaml"))
        for d in yaml.safe_load_all(open(f)) if d]
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
