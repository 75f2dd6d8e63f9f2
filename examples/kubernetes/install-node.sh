#!/usr/bin/env bash
# Installs ttyaudit on a Kubernetes node: what the DaemonSet's init container runs
# (daemonset.yaml), with the node's root filesystem mounted at --root.
#
#   install-node.sh [--root DIR] [--from DIR] [--all-pods] [--uninstall]
#     --root DIR    the node's root filesystem (default /)
#     --from DIR    where bin/ttyaudit* and config.json are (default: this script's directory)
#     --all-pods    also makes "ttyaudit" containerd's default runtime (default_runtime_name:
#                   pods without a RuntimeClass) and ttyaudit-runtime the runc of its "runc"
#                   handler (pods whose RuntimeClass names runc), so that every pod is recorded
#     --uninstall   removes the binaries and what it changed in containerd's config; keeps the
#                   config and the spool
#
# On the node:
#  - DIR/bin/ttyaudit* go to ROOT/usr/local/bin, each replaced by a rename, so that a runtime
#    that containerd is running at that moment is never cut short;
#  - DIR/config.json becomes ROOT/etc/ttyaudit/config.json (0600) when the node has none;
#  - the "ttyaudit" runtime handler is added to containerd's ROOT/etc/containerd/config.toml in
#    a block of its own, between marker lines, and nothing else in the file is touched. A
#    separate file in `imports` would not do with containerd 1.6 and 1.7: an imported file's
#    CRI section replaces the node's whole CRI section (runc options, sandbox image, registry)
#    instead of adding to it. A handler already configured by hand is left alone. With
#    --all-pods, the containerd table's default_runtime_name and the "runc" handler options'
#    BinaryName are each set (or added) on a line of their own, marked, with the line it
#    replaced kept in a comment for --uninstall; where the node's config has no such table,
#    it goes into the block.
# containerd reads its config when it starts: restart it for the handler to exist (running
# containers keep their runtime). The script prints whether the config changed.
set -euo pipefail

root=/ from=$(cd "$(dirname "$0")" && pwd) uninstall=0 all_pods=0
while (($#)); do
  case $1 in
    --root) root=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    --all-pods) all_pods=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    *) echo "usage: install-node.sh [--root DIR] [--from DIR] [--all-pods] [--uninstall]" >&2
      exit 2 ;;
  esac
done
root=${root%/}
bindir=$root/usr/local/bin
containerd_config=$root/etc/containerd/config.toml
begin='# BEGIN ttyaudit (install-node.sh: this block is replaced on upgrade)'
end='# END ttyaudit'
binaries=(ttyaudit ttyaudit-runtime ttyaudit-runtime-full ttyaudit-hook ttyaudit-uploader
  ttyaudit-rec ttyaudit-tracker)

say() { echo "install-node: $*"; }
die() { echo "install-node: $*" >&2; exit 1; }

runtime_path=/usr/local/bin/ttyaudit-runtime
cri='plugins."io.containerd.grpc.v1.cri"'
added=' # ttyaudit install-node.sh: added'
was=' # ttyaudit install-node.sh: was: '

# The config as it was before this script: without our block, our lines undone.
without_ours() {
  awk -v b="$begin" -v e="$end" -v added="$added" -v was="$was" '
    $0 == b {skip=1} skip {if ($0 == e) skip=0; next}
    index($0, added) {next}
    i = index($0, was) {print substr($0, i + length(was)); next}
    {print}' "$1"
}

# set_in_table FILE TABLE KEY VALUE: FILE with `KEY = VALUE` in its [TABLE], on a line of its
# own marked as ours: the line it replaces stays in our line's comment (for --uninstall), or
# ours goes at the table's end. Fails, having printed FILE unchanged, when it has no [TABLE].
set_in_table() {
  awk -v table="[$2]" -v key="$3" -v value="$4" -v added="$added" -v was="$was" '
    function ours(indent) { return indent key " = " value }
    /^[ \t]*\[/ {
      if (in_table && !done) {print ours(indent "  ") added; done=1}
      h = $0; sub(/^[ \t]+/, "", h); sub(/[ \t]*(#.*)?$/, "", h)
      in_table = h == table
      if (in_table) {found=1; match($0, /^[ \t]*/); indent = substr($0, 1, RLENGTH)}
      print; next
    }
    in_table && !done && $0 ~ "^[ \t]*" key "[ \t]*=" {
      match($0, /^[ \t]*/); print ours(substr($0, 1, RLENGTH)) was $0; done=1; next
    }
    {print}
    END {if (in_table && !done) print ours(indent "  ") added; exit !found}' "$1"
}

# Writes $containerd_config as $1's content, by rename, keeping the file's mode and owner.
replace_config() {
  local tmp=$containerd_config.ttyaudit-new
  cat "$1" >"$tmp"
  if [[ -e $containerd_config ]]; then
    chmod --reference="$containerd_config" "$tmp"
    chown --reference="$containerd_config" "$tmp"
  fi
  mv -f "$tmp" "$containerd_config"
}

add_handler() {
  local current=$T/current new=$T/new
  if [[ -e $containerd_config ]]; then without_ours "$containerd_config" >"$current"; else : >"$current"; fi
  if grep -q '^ *version *= *3' "$current"; then
    die "$containerd_config is a containerd 2 config (version 3): add the handler of" \
      "examples/containerd/config.toml to plugins.\"io.containerd.cri.v1.runtime\" by hand"
  fi
  if grep -q '^ *version *= *[^2 ]' "$current" ||
    { [[ -s $current ]] && ! grep -q '^ *version *= *2' "$current"; }; then
    die "$containerd_config is not a version 2 config (containerd 1.6/1.7): not changed"
  fi
  if grep -q 'containerd\.runtimes\.ttyaudit\]' "$current"; then
    say "$containerd_config already has a ttyaudit handler of its own: not changed"
    return
  fi
  # --all-pods, where the node has no table for them: the runc handler's options and the
  # default runtime, in our block.
  local runc_options="" default_runtime=""
  if ((all_pods)); then
    if set_in_table "$current" "$cri.containerd.runtimes.runc.options" BinaryName \
      "\"$runtime_path\"" >"$T/all-pods"; then
      mv "$T/all-pods" "$current"
    else
      grep -q 'containerd\.runtimes\.runc\]' "$current" ||
        runc_options+="[$cri.containerd.runtimes.runc]"$'\n  runtime_type = "io.containerd.runc.v2"\n'
      runc_options+="  [$cri.containerd.runtimes.runc.options]"$'\n'
      runc_options+="    BinaryName = \"$runtime_path\""$'\n'
    fi
    # Pods that name no RuntimeClass (and the pod sandboxes) run the default runtime.
    if set_in_table "$current" "$cri.containerd" default_runtime_name '"ttyaudit"' \
      >"$T/all-pods"; then
      mv "$T/all-pods" "$current"
    elif grep -q "^[[:space:]]*\[$(sed 's/[].[]/\\&/g' <<<"$cri.containerd.")" "$current"; then
      # The node's sub-tables come first: ours goes just before them, marked line by line.
      awk -v t="[$cri.containerd]" -v added="$added" -v h="[$cri.containerd." '
        !done && index($0, h) && $0 ~ /^[ \t]*\[/ {
          print t added; print "  default_runtime_name = \"ttyaudit\"" added; done=1
        }
        {print}' "$current" >"$T/all-pods"
      mv "$T/all-pods" "$current"
    else
      default_runtime="[$cri.containerd]"$'\n  default_runtime_name = "ttyaudit"\n'
    fi
  fi
  {
    cat "$current"
    [[ -s $current ]] || echo "version = 2"
    [[ -z $(tail -c 1 "$current") ]] || echo  # a last line without its newline
    echo "$begin"
    # Before the runtime tables: containerd's TOML reader lets a table given after its
    # sub-tables replace them.
    printf '%s' "$default_runtime"
    echo '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ttyaudit]'
    echo '  runtime_type = "io.containerd.runc.v2"'
    echo '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ttyaudit.options]'
    echo "    BinaryName = \"$runtime_path\""
    # The node's runc handler's cgroup driver, which the kubelet's must match.
    if awk '/^[ \t]*\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\]/ {o=1; next}
            /^[ \t]*\[/ {o=0} o && /^[ \t]*SystemdCgroup *= *true/ {f=1} END {exit !f}' "$current"; then
      echo '    SystemdCgroup = true'
    fi
    printf '%s' "$runc_options"
    echo "$end"
  } >"$new"
  if [[ -e $containerd_config ]] && cmp -s "$new" "$containerd_config"; then
    say "$containerd_config: the ttyaudit handler is in place"
  else
    mkdir -p "$(dirname "$containerd_config")"
    replace_config "$new"
    say "$containerd_config: ttyaudit handler added (restart containerd to use it)"
  fi
}

remove_handler() {
  [[ -e $containerd_config ]] || return 0
  without_ours "$containerd_config" >"$T/new"
  cmp -s "$T/new" "$containerd_config" && return 0
  replace_config "$T/new"
  say "$containerd_config: ttyaudit's changes removed (restart containerd)"
}

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if ((uninstall)); then
  remove_handler
  for b in "${binaries[@]}"; do rm -f "$bindir/$b"; done
  say "binaries removed from $bindir; $root/etc/ttyaudit and $root/var/lib/ttyaudit kept"
  exit 0
fi

for b in "${binaries[@]}"; do [[ -x $from/bin/$b ]] || die "$from/bin/$b missing"; done
mkdir -p "$bindir"
for b in "${binaries[@]}"; do
  install -m 0755 "$from/bin/$b" "$bindir/.$b.new"
  mv -f "$bindir/.$b.new" "$bindir/$b"
done
say "binaries installed in $bindir"

if [[ -e $root/etc/ttyaudit/config.json ]]; then
  say "$root/etc/ttyaudit/config.json kept"
else
  [[ -f $from/config.json ]] || die "$from/config.json missing"
  install -d -m 0755 "$root/etc/ttyaudit"
  install -m 0600 "$from/config.json" "$root/etc/ttyaudit/config.json"
  say "$root/etc/ttyaudit/config.json installed"
fi
install -d -m 0700 "$root/var/lib/ttyaudit"

add_handler
