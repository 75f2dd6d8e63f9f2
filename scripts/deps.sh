#!/usr/bin/env bash
# Installs every system and npm dependency ttyaudit builds, tests and benchmarks with.
# Idempotent; needs root; reaches only Debian's archive and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake pkg-config
  libseccomp-dev libcap-dev libsystemd-dev libcpp-httplib-dev libsimdjson-dev
  doctest-dev libssl-dev libcli11-dev libsqlite3-dev libvterm-dev clang-format python3
  clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev)
test_pkgs=(containerd runc docker.io busybox-static tmux awscli asciinema tlog
  python3-botocore python3-grpcio python3-yaml util-linux procps iproute2 psmisc chromium jq
  e2fsprogs passwd openssl faketime
  libcap2-bin systemd)
# node and npm: the machine's own (a newer Node.js than Debian's) when present, else Debian's.
command -v npm >/dev/null 2>&1 || test_pkgs+=(nodejs npm)
# kubectl (the Kubernetes manifests' dry run): the machine's own when present, else Debian's.
command -v kubectl >/dev/null 2>&1 || test_pkgs+=(kubernetes-client)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Service start-up is not wanted: the tests start their own private daemons.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: Debian packages present"
fi

if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || ! npm ls >/dev/null 2>&1; then
    echo "deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  else
    echo "deps: npm packages present"
  fi
fi
# `ttyaudit serve` embeds these at build time (CMakeLists.txt, cmake/embed_web.cmake).
for f in node_modules/asciinema-player/dist/bundle/asciinema-player.min.js \
  node_modules/asciinema-player/dist/bundle/asciinema-player.css \
  node_modules/xterm/lib/xterm.js node_modules/xterm/css/xterm.css; do
  [ -f "$f" ] || { echo "deps: $f is missing after npm ci" >&2; exit 1; }
done
