#!/usr/bin/env bash
# make uninstall: removes what `make install` installs with the same PREFIX and DESTDIR. The file
# list is what the build would install, learnt by installing into a scratch directory first.
# /etc/ttyaudit/config.json (the operator's) and the spool are kept.
# Usage: DESTDIR=... scripts/uninstall.sh BUILD PREFIX
set -euo pipefail
build=$1 prefix=$2 root=${DESTDIR:-}
[[ -f $build/cmake_install.cmake ]] || { echo "uninstall: no build in $build: run make first" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage cmake --install "$build" --prefix "$prefix" >/dev/null
cd "$stage"
while IFS= read -r -d '' f; do
  f=${f#./}
  [[ $f == etc/ttyaudit/config.json ]] && continue
  if [[ -e $root/$f || -L $root/$f ]]; then
    rm -f "$root/$f"
    echo "removed $root/$f"
  fi
done < <(find . ! -type d -print0)
# ttyaudit's own directories, deepest first, once empty.
while IFS= read -r -d '' d; do
  d=${d#./}
  if [[ $d == *ttyaudit* ]]; then rmdir "$root/$d" 2>/dev/null || true; fi
done < <(find . -mindepth 1 -type d -print0 | sort -rz)
if [[ -e $root/etc/ttyaudit/config.json ]]; then
  echo "kept $root/etc/ttyaudit/config.json (the node's config: remove it by hand)"
fi
