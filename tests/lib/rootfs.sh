# Root filesystems for test containers. Source after common.sh.

# make_busybox_rootfs DIR: a minimal root filesystem: busybox-static with its applet links.
make_busybox_rootfs() {
  local dir=$1
  local bb
  bb=$(command -v busybox) || fail "busybox is not installed (make deps installs busybox-static)"
  file -L "$bb" 2>/dev/null | grep -q 'dynamically linked' && fail "$bb is not static (make deps installs busybox-static)"
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,run}
  cp "$bb" "$dir/bin/busybox"
  local a
  for a in $("$dir/bin/busybox" --list); do
    [[ -e "$dir/bin/$a" ]] || ln -s busybox "$dir/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
}

# make_busybox_tarball DIR TAR: the rootfs in DIR as a tarball (for `docker import`).
make_busybox_tarball() {
  tar -C "$1" -cf "$2" .
}
