# Helpers for the tests of `ttyaudit doctor`: a node on which every check passes. Source after
# common.sh and s3rver.sh.

# start_doctor_node: s3rver with its bucket, a config (the real runc, a root-only spool, the
# bucket under doctor/) in $TTYAUDIT_CONFIG, a containerd config whose ttyaudit handler runs
# ttyaudit-runtime at $T/containerd.toml, and the tracker hub and the uploader running.
start_doctor_node() {
  local runc
  runc=$(command -v runc) || fail "runc not installed (make deps)"
  start_s3rver
  mkdir -m 0700 -p "$T/spool"
  write_config "$T/config.json" "$T/spool" "s3://$S3_BUCKET/doctor"
  jq --arg runc "$runc" '.runc = $runc' "$T/config.json" >"$T/c" && mv "$T/c" "$T/config.json"
  export TTYAUDIT_CONFIG="$T/config.json"
  cat >"$T/containerd.toml" <<TOML
version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ttyaudit]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ttyaudit.options]
    BinaryName = "$BIN/ttyaudit-runtime"
TOML
  "$BIN/ttyaudit-tracker" --run-dir "$TTYAUDIT_RUN_DIR" --idle-exit-s 0 --no-realtime \
    2>"$T/tracker.log" &
  track_pid $!
  "$BIN/ttyaudit-uploader" --jobs 1 2>"$T/uploader.log" &
  track_pid $!
  wait_for 10 test -s "$TTYAUDIT_RUN_DIR/tracker.pid"
  wait_for 10 test -s "$T/spool/uploader.status"
}

# doctor ARGS...: `ttyaudit doctor` on that node.
doctor() {
  "$BIN/ttyaudit" doctor --containerd-config "$T/containerd.toml" \
    --docker-config "$T/no-daemon.json" "$@"
}

# check_field JSON NAME FIELD: FIELD (a jq path such as .status) of doctor's check NAME.
check_field() { jq -r --arg n "$2" ".checks[] | select(.name == \$n) | $3" <<<"$1"; }

# not_ok JSON: the names of doctor's checks that are not ok, comma-separated.
not_ok() { jq -r '[.checks[] | select(.status != "ok") | .name] | join(",")' <<<"$1"; }
