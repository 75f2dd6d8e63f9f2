# A private dockerd for one test, on the test's private containerd (start_containerd first):
# data root, exec root, pid file and socket under $T/docker; no bridge, no iptables. dockerd
# 20.10 always writes its trust key to /etc/docker/key.json: removed at exit if this test made it.
# Source after common.sh and containerd.sh.
#   start_dockerd [RUNTIME_NAME=PATH...]   starts it with those runtimes in daemon.json
#   dk ARGS...                             the docker CLI against it
#   docker_import_rootfs DIR IMAGE         a rootfs directory as an image

start_dockerd() {
  command -v dockerd >/dev/null || fail "dockerd is not installed (make deps installs docker.io)"
  command -v docker >/dev/null || fail "the docker CLI is not installed (make deps installs docker.io)"
  local d="$T/docker"
  mkdir -p "$d/data" "$d/exec"
  DOCKER_SOCK="$d/docker.sock"
  local runtimes="" r
  for r in "$@"; do
    [[ -n $runtimes ]] && runtimes+=", "
    runtimes+="\"${r%%=*}\": {\"path\": \"${r#*=}\"}"
  done
  cat >"$d/daemon.json" <<JSON
{
  "runtimes": {${runtimes}},
  "storage-driver": "vfs",
  "log-level": "warn",
  "features": {"buildkit": false}
}
JSON
  [[ -e /etc/docker/key.json ]] || on_exit "rm -f /etc/docker/key.json; rmdir /etc/docker 2>/dev/null"
  dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
    --pidfile "$d/docker.pid" -H "unix://$DOCKER_SOCK" --containerd "$CTR_SOCK" \
    --bridge=none --iptables=false --ip-masq=false --ip-forward=false --userland-proxy=false \
    >"$d/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  track_pid "$DOCKERD_PID"
  on_exit "_docker_cleanup"
  wait_for 30 dk version
}

dk() { docker -H "unix://$DOCKER_SOCK" "$@"; }

# Removes every container this dockerd runs, so their shims exit before dockerd does.
_docker_cleanup() {
  local ids
  ids=$(dk ps -aq 2>/dev/null) || return 0
  [[ -n $ids ]] && dk rm -f $ids >/dev/null 2>&1
  return 0
}

docker_import_rootfs() {
  local dir=$1 image=$2
  tar -C "$dir" -cf "$T/rootfs-image.tar" .
  dk import "$T/rootfs-image.tar" "$image" >/dev/null
}
