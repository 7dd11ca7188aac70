#!/usr/bin/env bash
# Run before the tests: names every missing tool with the exact command that installs it.
missing_apt=()
need() { command -v "$1" >/dev/null 2>&1 || missing_apt+=("$2"); }
need sfdisk fdisk; need mcopy mtools; need debugfs e2fsprogs; need fsck.fat dosfstools; need losetup mount
need openssl openssl; need xz xz-utils; need zip zip; need unzip unzip; need skopeo skopeo
need docker-registry docker-registry; need shellcheck shellcheck; need bmaptool bmap-tools; need kubectl kubernetes-client
need curl curl; need ssh-keygen openssh-client
problems=0
if [ ${#missing_apt[@]} -gt 0 ]; then
  echo "The tests need host tools that are missing. Install them with:" >&2
  echo "  sudo apt-get install ${missing_apt[*]}" >&2
  problems=1
fi
if [ ! -d node_modules/ava ]; then
  echo "The npm dependencies are not installed. Run: npm ci" >&2
  problems=1
fi
exit "$problems"
