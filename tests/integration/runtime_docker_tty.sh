#!/usr/bin/env bash
# `docker exec -it` on a container run with `--runtime ttyaudit` (daemon.json runtimes): the
# client sees what it sees with Docker's default runc, and the record holds output, input, both
# sizes, exit status 3, and Docker's container name and image.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"
. "$(dirname "$0")/../lib/dockerd.sh"

start_ttyaudit_containerd
start_dockerd "ttyaudit=$BIN/ttyaudit-runtime"
docker_import_rootfs "$T/rootfs" ttyaudit-busybox:test
dk run -d --name plain --network none ttyaudit-busybox:test sleep 1000 >/dev/null
dk run -d --name rec --runtime ttyaudit --network none ttyaudit-busybox:test sleep 1000 >/dev/null
assert_eq "$(dk inspect -f '{{.HostConfig.Runtime}}' rec)" ttyaudit "runtime of the recorded container"
ok "docker run --runtime ttyaudit"

for name in plain rec; do
  drive_tty_script "$name" "docker -H 'unix://$DOCKER_SOCK' exec -it $name sh"
done
grep -q "CLIENT-RC=3" "$T/rec.screen" || { cat "$T/rec.screen" >&2; fail "client exit code through ttyaudit-runtime"; }
if ! diff "$T/plain.screen" "$T/rec.screen" >&2; then fail "the client's screen differs from Docker's default runtime"; fi
ok "docker exec -it: client screen identical to the default runtime's"

# Non-terminal docker exec: same output and exit code.
rc_plain=0 rc_rec=0
out_plain=$(dk exec plain sh -c 'echo out; exit 4') || rc_plain=$?
out_rec=$(dk exec rec sh -c 'echo out; exit 4') || rc_rec=$?
assert_eq "$out_rec/$rc_rec" "$out_plain/$rc_plain" "docker exec (no tty) output/exit code"
ok "docker exec without a tty: same output and exit code ($rc_rec)"

mapfile -t ids < <(terminal_sessions)
assert_eq "${#ids[@]}" 1 "terminal sessions recorded"
check_tty_script_record "${ids[0]}" "$(dk inspect -f '{{.Id}}' rec)"
m=$(session_meta "${ids[0]}")
assert_eq "$(jq -r .runtime <<<"$m")" docker "runtime"
assert_eq "$(jq -r .container <<<"$m")" rec "container name"
assert_eq "$(jq -r .image <<<"$m")" ttyaudit-busybox:test "image"
assert_eq "$(jq -r .env.TERM <<<"$m")" xterm "TERM from docker exec -it"
ok "metadata: docker, container name rec, image ttyaudit-busybox:test"
