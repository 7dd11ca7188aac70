#!/usr/bin/env bash
# Run before the tests: names every missing tool by its Debian package, with the one command that installs them all.
# `test:boot` also needs what `boot` lists (its Debian root is made with debootstrap and run by qemu-user-static).
missing=()
need() { command -v "$1" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $2 "* ]] || missing+=("$2"); }
need sfdisk fdisk; need partx util-linux; need losetup mount; need unshare util-linux
need mcopy mtools; need mkfs.vfat dosfstools; need fsck.fat dosfstools
need debugfs e2fsprogs; need mke2fs e2fsprogs; need dumpe2fs e2fsprogs; need filefrag e2fsprogs; need e2cp e2tools
need openssl openssl; need xz xz-utils; need gzip gzip; need tar tar; need zip zip; need unzip unzip; need curl curl
need ssh-keygen openssh-client; need ssh openssh-client; need bmaptool bmap-tools; need skopeo skopeo
need docker-registry docker-registry; need shellcheck shellcheck; need kubectl kubernetes-client
need qemu-system-aarch64 qemu-system-arm; need qemu-system-arm qemu-system-arm
if [ "${1:-}" = boot ]; then
  need debootstrap debootstrap; need qemu-aarch64-static qemu-user-static; need cpio cpio; need depmod kmod
fi
problems=0
if [ ${#missing[@]} -gt 0 ]; then
  echo "The tests need host tools that are missing. Install them with:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  problems=1
fi
if [ ! -d node_modules/ava ]; then
  echo "The npm dependencies are not installed. Run: npm ci" >&2
  problems=1
fi
exit "$problems"
