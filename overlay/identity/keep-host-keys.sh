#!/bin/sh -e
# pikube: installed over raspberrypi-sys-mods' /usr/lib/raspberrypi-sys-mods/regenerate_ssh_host_keys on a cluster
# card whose SSH host keys `pikube build` made. The original (run by regenerate_ssh_host_keys.service, and on
# Bookworm directly by the sys-mods firstboot init) seeds the kernel's pool from the hardware RNG, deletes every host
# key, remakes them with `ssh-keygen -A` and disables the service. This does the same minus the delete: the card's
# keys are kept, only missing ones are made. A package upgrade restores the original, which never runs again.
if [ -c /dev/hwrng ]; then
  dd if=/dev/hwrng of=/dev/urandom count=1 bs=4096 status=none || true
fi
ssh-keygen -A >/dev/null
systemctl -q disable regenerate_ssh_host_keys 2>/dev/null || true
