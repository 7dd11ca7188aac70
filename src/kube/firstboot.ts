import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalFile } from '../acquire/local-inputs.ts';
import { makeEnableLink, makeFileEntry, makeHostContent, makeTextEntry } from '../plan/entries.ts';
import type { PlanEntry } from '../plan/types.ts';

// Where the probe and the card's boot-test unit meet: the unit makes the folder once first boot is over and powers
// the machine off when the probe leaves the release file there (or its wait runs out).
export const LOGIN_RELEASE_DIR = '/run/pikube-boot-test';

// The first-boot script ships as a static file in overlay/; prepare reads and hashes it like any other input.
export const FIRSTBOOT_SCRIPT = fileURLToPath(new URL('../../overlay/firstboot/pikube-firstboot.sh', import.meta.url));
export const FIRSTBOOT_UNIT_PATH = '/etc/systemd/system/pikube-firstboot.service';
// Installed beside first boot, inert unless `pikube boot-test` boots a copy with pikube.test on the command line.
export const BOOT_TEST_UNIT_PATH = '/etc/systemd/system/pikube-boot-test.service';
// Where the first boot and the boot-test unit leave their records in the root partition (read back by boot-test).
export const FIRSTBOOT_RECORDS = {
  done: '/var/lib/pikube/firstboot.done',
  runs: '/var/lib/pikube/firstboot.runs',
  boots: '/var/lib/pikube/boot-test.boots',
  journal: '/var/lib/pikube/boot-test-journal.txt',
} as const;
// First boot's status file, at the root of the boot partition (readable by putting the card into a laptop).
export const STATUS_FILE = '/pikube-status.txt';

export interface FirstBootOptions {
  profile: 'k3s' | 'static';
  // An agent has no API server of its own to ask whether the node is Ready.
  role: 'server' | 'agent';
  node: string;
  architecture: string;
  bootMount: string;
  imageDir: string;
  // name=directory pairs of Dockerfile contexts copied into the image, built on the Pi.
  builds: Array<{ name: string; directory: string }>;
  script: LocalFile;
  after: string;
  // Further PIKUBE_* settings the profile's steps read (the static profile's kubeconfig, pause image, …).
  env?: Record<string, string>;
}

const ORIGIN = 'pikube first boot';

// A oneshot unit that runs once (its done-file is its condition), after the cluster runtime, enabled by its link;
// beside it the boot-test unit, inert unless `pikube boot-test` put pikube.test on the emulator's kernel command line.
export function planFirstBoot(options: FirstBootOptions): PlanEntry[] {
  const env = [
    `PIKUBE_PROFILE=${options.profile}`,
    `PIKUBE_ROLE=${options.role}`,
    `PIKUBE_NODE=${options.node}`,
    `PIKUBE_SERVICE=${options.after}`,
    `PIKUBE_ARCH=${options.architecture}`,
    `PIKUBE_BOOT=${options.bootMount}`,
    `PIKUBE_IMAGE_DIR=${options.imageDir}`,
    `PIKUBE_BUILDS="${options.builds.map((b) => `${b.name}=${b.directory}`).join(' ')}"`,
    ...Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
    '',
  ].join('\n');
  const unit = `[Unit]
Description=pikube first boot: checks, images, wait for the node to be Ready (or the agent to run)
Wants=network-online.target
After=network-online.target ${options.after}
ConditionPathExists=!${FIRSTBOOT_RECORDS.done}

[Service]
Type=oneshot
ExecStart=/usr/local/lib/pikube/firstboot.sh
RemainAfterExit=yes
TimeoutStartSec=45min
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;
  const finish = `#!/bin/sh
# pikube boot-test only (pikube.test on the kernel command line): records this boot and the journal of first boot,
# the node's runtime (k3s, k3s-agent or kubelet, and containerd) where boot-test reads them from the copy, then
# powers the emulated machine off. With pikube.ssh=SECONDS boot-test logs in over SSH first: the folder tells its
# login that first boot is over, and the machine powers off once the login leaves the release file (or SECONDS pass).
mkdir -p /var/lib/pikube
echo "$(cat /proc/sys/kernel/random/boot_id) firstboot=$(systemctl show -p Result --value pikube-firstboot.service)" >>${FIRSTBOOT_RECORDS.boots}
journalctl -b --no-pager -o short-monotonic -u pikube-firstboot.service -u containerd.service -u k3s.service -u k3s-agent.service -u kubelet.service 2>&1 | tail -n 300 >${FIRSTBOOT_RECORDS.journal}
wait=$(sed -n 's/.*pikube\\.ssh=\\([0-9][0-9]*\\).*/\\1/p' /proc/cmdline)
if [ -n "$wait" ]; then
  mkdir -m 1777 ${LOGIN_RELEASE_DIR} 2>/dev/null || chmod 1777 ${LOGIN_RELEASE_DIR}
  echo "pikube-boot-test: first boot is over, waiting up to $wait s for the SSH login"
  i=0
  while [ ! -e ${LOGIN_RELEASE_DIR}/release ] && [ "$i" -lt "$wait" ]; do sleep 1; i=$((i + 1)); done
fi
echo "pikube-boot-test: powering off"
sync
systemctl --no-block poweroff
`;
  const testUnit = `[Unit]
Description=pikube boot-test: power off once first boot is over (only when pikube boot-test runs this card in an emulator)
ConditionKernelCommandLine=pikube.test
After=pikube-firstboot.service

[Service]
Type=oneshot
ExecStart=/usr/local/lib/pikube/boot-test-finish.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;
  return [
    makeFileEntry('root', '/usr/local/lib/pikube/firstboot.sh', makeHostContent(options.script), 0o755, ORIGIN),
    makeTextEntry('root', '/etc/pikube/firstboot.env', env, 0o644, ORIGIN),
    makeTextEntry('root', FIRSTBOOT_UNIT_PATH, unit, 0o644, ORIGIN),
    makeEnableLink(basename(FIRSTBOOT_UNIT_PATH), ORIGIN),
    makeTextEntry('root', '/usr/local/lib/pikube/boot-test-finish.sh', finish, 0o755, ORIGIN),
    makeTextEntry('root', BOOT_TEST_UNIT_PATH, testUnit, 0o644, ORIGIN),
    makeEnableLink(basename(BOOT_TEST_UNIT_PATH), 'pikube boot-test, inert without pikube.test'),
  ];
}
