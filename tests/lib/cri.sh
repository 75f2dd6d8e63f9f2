# A private containerd with its CRI plugin, driven as kubelet drives it (tests/lib/cri.py).
# Source after common.sh, rootfs.sh and containerd.sh. Everything lives under $T/containerd:
# root, state, sockets, runc's root; pods use the node's network (no CNI), the streaming
# server listens on loopback, and the pods' cgroups sit under a parent named after the test.
#   start_cri_containerd    the config (runtime handlers "runc", plain runc, and "ttyaudit",
#                           taken from examples/containerd/config.toml), a busybox rootfs, the
#                           images $PAUSE_IMAGE and $BUSYBOX_IMAGE imported, then containerd
#   cri ARGS...             tests/lib/cri.py against it
#   cri_pod NAME NAMESPACE HANDLER   writes $T/pod-NAME.json, runs the pod, prints its id
#   cri_container POD_ID POD_NAME NAME CMD...  creates and starts a container of $BUSYBOX_IMAGE
#                           (by image id, as kubelet names it), prints its id
CRI_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cri.py"
PAUSE_IMAGE=localhost/ttyaudit-test/pause:1
BUSYBOX_IMAGE=localhost/ttyaudit-test/busybox:1
CRI_CGROUP_PARENT="/ttyaudit-cri-${T##*.}"

cri() { /usr/bin/python3 "$CRI_PY" "$1" "$CTR_SOCK" "${@:2}"; }

# The "ttyaudit" handler of the project's example config, with BinaryName pointed at this
# build; fails the test if the example no longer has it.
_example_ttyaudit_handler() {
  local example
  example="$(dirname "$CRI_PY")/../../examples/containerd/config.toml"
  awk '/^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.ttyaudit\]/ {p=1}
       p && /^[[:space:]]*$/ {exit} p' "$example" >"$T/handler.toml"
  grep -q '^ *BinaryName = ".*/ttyaudit-runtime"$' "$T/handler.toml" ||
    fail "examples/containerd/config.toml has no ttyaudit handler with a BinaryName"
  sed -i "s|^\( *BinaryName = \)\".*\"|\1\"$BIN/ttyaudit-runtime\"|" "$T/handler.toml"
  cat "$T/handler.toml"
}

start_cri_containerd() {
  command -v containerd >/dev/null || skip "containerd not installed (make deps)"
  /usr/bin/python3 -c 'import grpc' 2>/dev/null || skip "python3-grpcio not installed (make deps)"
  local runc d="$T/containerd"
  runc=$(command -v runc) || skip "runc not installed (make deps)"
  mkdir -p "$d/root" "$d/state" "$d/cni/bin" "$d/cni/net.d" "$T/pods"
  CTR_SOCK="$d/containerd.sock"
  CTR_NS=k8s.io
  { containerd_config "$d"
    cat <<TOML
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  # A pause container asks for oom_score_adj -998, which needs more than a test's sandbox
  # may have: no lower than containerd's own.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$d/cni/bin"
    conf_dir = "$d/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    BinaryName = "$runc"
    Root = "$RUNC_ROOT"

$(_example_ttyaudit_handler)
    Root = "$RUNC_ROOT"
TOML
  } >"$d/config.toml"
  make_busybox_rootfs "$T/rootfs"
  # In a session of its own: a Ctrl-C at the terminal (make demo) must not stop containerd
  # before the exit trap has removed the pods through it. (An async child of a script is no
  # group leader, so setsid does not fork: $! is containerd.)
  setsid containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  track_pid "$CONTAINERD_PID"
  on_exit "_cri_cleanup"
  wait_for 20 ctr --address "$CTR_SOCK" version
  /usr/bin/python3 "$CRI_PY" image-tar "$T/rootfs" "$PAUSE_IMAGE" "$T/pause.tar" sleep 2147483647
  /usr/bin/python3 "$CRI_PY" image-tar "$T/rootfs" "$BUSYBOX_IMAGE" "$T/busybox.tar" sh
  local tar
  for tar in pause busybox; do
    cctr images import --snapshotter native "$T/$tar.tar" >/dev/null
  done
  # The CRI plugin learns of imported images from containerd's events.
  wait_for 10 _cri_has_image "$PAUSE_IMAGE"
  wait_for 10 _cri_has_image "$BUSYBOX_IMAGE"
}
_cri_has_image() { [[ -n $(cri image-id "$1") ]]; }

# Stops and removes every pod (their containers and shims go with them), then the cgroups.
_cri_cleanup() {
  timeout 60 /usr/bin/python3 "$CRI_PY" cleanup "$CTR_SOCK" || true
  # What runc left (a container whose create failed keeps its cgroup), deepest first.
  find /sys/fs/cgroup/*"$CRI_CGROUP_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

cri_pod() {
  local name=$1 ns=$2 handler=$3
  jq -n --arg name "$name" --arg ns "$ns" --arg uid "uid-$name-${T##*.}" \
    --arg cg "$CRI_CGROUP_PARENT" --arg logs "$T/pods/$name" '{
      name: $name, namespace: $ns, uid: $uid, cgroup_parent: $cg, log_directory: $logs,
      labels: {app: $name, "io.kubernetes.pod.name": $name, "io.kubernetes.pod.namespace": $ns,
               "io.kubernetes.pod.uid": $uid},
      annotations: {"kubernetes.io/config.source": "api"}}' >"$T/pod-$name.json"
  mkdir -p "$T/pods/$name"
  cri run-pod "$T/pod-$name.json" "$handler"
}

cri_container() {
  local pod_id=$1 pod=$2 name=$3 image_id
  shift 3
  image_id=$(cri image-id "$BUSYBOX_IMAGE")
  jq -n --arg name "$name" --arg image "$image_id" --argjson pod "$(cat "$T/pod-$pod.json")" \
    '{name: $name, image: $image, command: $ARGS.positional, log_path: ($name + "_0.log"),
      env: {PATH: "/bin:/sbin:/usr/bin:/usr/sbin", HOME: "/root"},
      labels: {"io.kubernetes.container.name": $name, "io.kubernetes.pod.name": $pod.name,
               "io.kubernetes.pod.namespace": $pod.namespace, "io.kubernetes.pod.uid": $pod.uid}}' \
    --args "$@" >"$T/ctr-$pod-$name.json"
  local id
  id=$(cri create "$pod_id" "$T/pod-$pod.json" "$T/ctr-$pod-$name.json")
  cri start "$id"
  echo "$id"
}
