#!/bin/sh
# pikube boot-test only: pikube-boot-test.service runs this after first boot, and only when `pikube boot-test` put
# pikube.test on the emulator's kernel command line (ConditionKernelCommandLine). It records this boot and the
# journal of first boot and of the node's runtime (k3s, k3s-agent or kubelet, and containerd) where boot-test reads
# them back from the copy, then powers the emulated machine off. With pikube.ssh=SECONDS boot-test logs in over SSH
# first: the release folder tells its login that first boot is over, and the machine powers off once the login
# leaves the release file there (or SECONDS pass).
# The paths are fixed and shared with pikube (FIRSTBOOT_RECORDS and LOGIN_RELEASE_DIR in src/kube/firstboot.ts).
BOOTS=/var/lib/pikube/boot-test.boots
JOURNAL=/var/lib/pikube/boot-test-journal.txt
RELEASE_DIR=/run/pikube-boot-test

mkdir -p /var/lib/pikube
echo "$(cat /proc/sys/kernel/random/boot_id) firstboot=$(systemctl show -p Result --value pikube-firstboot.service)" >>"$BOOTS"
journalctl -b --no-pager -o short-monotonic -u pikube-firstboot.service -u containerd.service -u k3s.service \
  -u k3s-agent.service -u kubelet.service 2>&1 | tail -n 300 >"$JOURNAL"
wait=$(sed -n 's/.*pikube\.ssh=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$wait" ]; then
  mkdir -m 1777 "$RELEASE_DIR" 2>/dev/null || chmod 1777 "$RELEASE_DIR"
  echo "pikube-boot-test: first boot is over, waiting up to $wait s for the SSH login"
  i=0
  while [ ! -e "$RELEASE_DIR/release" ] && [ "$i" -lt "$wait" ]; do sleep 1; i=$((i + 1)); done
fi
echo "pikube-boot-test: powering off"
sync
systemctl --no-block poweroff
