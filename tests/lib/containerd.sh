# A private containerd for one test: config, root, state and socket under $T/containerd.
# Source after common.sh. Never touches /run/containerd or /etc/containerd.
#   start_containerd        starts it and waits for its socket; sets CTR_SOCK
#   cctr ARGS...            ctr against it (namespace $CTR_NS, default "ttyaudit-test")
#   ctr_run_bg ID ROOTFS RUNC [ctr run options...] -- CMD...   a detached container
CTR_NS=${CTR_NS:-ttyaudit-test}

start_containerd() {
  command -v containerd >/dev/null || skip "containerd not installed (make deps)"
  local d="$T/containerd"
  mkdir -p "$d/root" "$d/state" "$d/fifo"
  CTR_SOCK="$d/containerd.sock"
  cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""
TOML
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  track_pid "$CONTAINERD_PID"
  # Containers still running when the test ends: their shims would outlive containerd.
  on_exit "_ctr_cleanup"
  wait_for 20 ctr --address "$CTR_SOCK" version
}

cctr() { ctr --address "$CTR_SOCK" --namespace "$CTR_NS" "$@"; }

# Kills and deletes every task and container in our namespace (their shims exit with them).
_ctr_cleanup() {
  local id
  for id in $(cctr task ls -q 2>/dev/null); do
    cctr task kill -s KILL "$id" 2>/dev/null || true
  done
  sleep 0.3
  for id in $(cctr task ls -q 2>/dev/null); do cctr task delete -f "$id" 2>/dev/null || true; done
  for id in $(cctr container ls -q 2>/dev/null); do cctr container delete "$id" 2>/dev/null || true; done
}

# ctr_run_bg ID ROOTFS RUNC [ctr run options...] -- CMD...: starts a detached container on a
# rootfs directory with the given runc binary and waits until its task runs.
ctr_run_bg() {
  local id=$1 rootfs=$2 runc=$3
  shift 3
  local opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  cctr run -d --rootfs --fifo-dir "$T/containerd/fifo" --runc-binary "$runc" \
    --env PATH=/bin:/sbin:/usr/bin:/usr/sbin --env HOME=/root \
    "${opts[@]}" "$rootfs" "$id" "$@" >/dev/null
  wait_for 10 _ctr_task_running "$id"
}
_ctr_task_running() { cctr task ls | awk -v id="$1" '$1 == id && $3 == "RUNNING" {f=1} END {exit !f}'; }

# ctr_exec ID [exec options...] -- CMD...: `ctr task exec` with our fifo dir and a fresh exec id.
ctr_exec() {
  local id=$1
  shift
  local opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  cctr task exec --fifo-dir "$T/containerd/fifo" --exec-id "e$RANDOM$RANDOM" "${opts[@]}" "$id" "$@"
}
