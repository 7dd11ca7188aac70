import { basename } from 'node:path';
import type { OverlayScripts } from '../acquire/overlay-scripts.ts';
import { makeEnableLink, makeFileEntry, makeHostContent, makeTextEntry } from '../plan/entries.ts';
import type { PlanEntry } from '../plan/types.ts';

// Where the probe and the card's boot-test unit meet: the unit makes the folder once first boot is over and powers
// the machine off when the probe leaves the release file there (or its wait runs out); both scripts
// (overlay/firstboot/boot-test-finish.sh, overlay/boot-test/login-probe.sh) name the same folder.
export const LOGIN_RELEASE_DIR = '/run/pikube-boot-test';

export const FIRSTBOOT_UNIT_PATH = '/etc/systemd/system/pikube-firstboot.service';
// Installed beside first boot, inert unless `pikube boot-test` boots a copy with pikube.test on the command line.
export const BOOT_TEST_UNIT_PATH = '/etc/systemd/system/pikube-boot-test.service';
// Where the first boot and the boot-test unit leave their records in the root partition (read back by boot-test);
// overlay/firstboot/pikube-firstboot.sh and boot-test-finish.sh name the same paths.
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
  // overlay/firstboot/pikube-firstboot.sh and boot-test-finish.sh, read and hashed at gather time.
  scripts: Pick<OverlayScripts, 'firstBoot' | 'bootTestFinish'>;
  after: string;
  // Further PIKUBE_* settings the profile's steps read (the static profile's kubeconfig, pause image, …).
  env?: Record<string, string>;
}

const ORIGIN = 'pikube first boot';

// Both units wait for minutes, so multi-user.target must not wait for them: a target orders itself after every unit
// it wants unless that unit has no default dependencies (systemd.target(5)), and Debian's cloud-init runs its final
// stage (user-data runcmd, where sshd is turned on as Raspberry Pi Imager does) only after multi-user.target. The
// service defaults (systemd.service(5)) are written out instead.
const OUTSIDE_MULTI_USER = `DefaultDependencies=no
Requires=sysinit.target
Conflicts=shutdown.target
Before=shutdown.target`;

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
${OUTSIDE_MULTI_USER}
Wants=network-online.target
After=sysinit.target basic.target network-online.target ${options.after}
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
  const testUnit = `[Unit]
Description=pikube boot-test: power off once first boot is over (only when pikube boot-test runs this card in an emulator)
ConditionKernelCommandLine=pikube.test
${OUTSIDE_MULTI_USER}
After=sysinit.target basic.target pikube-firstboot.service

[Service]
Type=oneshot
ExecStart=/usr/local/lib/pikube/boot-test-finish.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;
  return [
    makeFileEntry('root', '/usr/local/lib/pikube/firstboot.sh', makeHostContent(options.scripts.firstBoot), 0o755, ORIGIN),
    makeTextEntry('root', '/etc/pikube/firstboot.env', env, 0o644, ORIGIN),
    makeTextEntry('root', FIRSTBOOT_UNIT_PATH, unit, 0o644, ORIGIN),
    makeEnableLink(basename(FIRSTBOOT_UNIT_PATH), ORIGIN),
    makeFileEntry('root', '/usr/local/lib/pikube/boot-test-finish.sh', makeHostContent(options.scripts.bootTestFinish), 0o755, ORIGIN),
    makeTextEntry('root', BOOT_TEST_UNIT_PATH, testUnit, 0o644, ORIGIN),
    makeEnableLink(basename(BOOT_TEST_UNIT_PATH), 'pikube boot-test, inert without pikube.test'),
  ];
}
