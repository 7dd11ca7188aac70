import { fileURLToPath } from 'node:url';
import type { LocalFile } from '../acquire/local-inputs.ts';
import type { FileEntry, PlanEntry } from '../plan/types.ts';

// The first-boot script ships as a static file in overlay/; prepare reads and hashes it like any other input.
export const FIRSTBOOT_SCRIPT = fileURLToPath(new URL('../../overlay/firstboot/pikube-firstboot.sh', import.meta.url));
export const FIRSTBOOT_UNIT_PATH = '/etc/systemd/system/pikube-firstboot.service';

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

function text(path: string, body: string, mode: number): FileEntry {
  return { type: 'file', partition: 'root', path, mode, uid: 0, gid: 0, content: { kind: 'text', text: body }, origin: 'pikube first boot' };
}

// A oneshot unit that runs once (its done-file is its condition), after the cluster runtime, enabled by its link.
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
ConditionPathExists=!/var/lib/pikube/firstboot.done

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
  return [
    { type: 'file', partition: 'root', path: '/usr/local/lib/pikube/firstboot.sh', mode: 0o755, uid: 0, gid: 0,
      content: { kind: 'host', path: options.script.hostPath, size: options.script.size, sha256: options.script.sha256 }, origin: 'pikube first boot' },
    text('/etc/pikube/firstboot.env', env, 0o644),
    text(FIRSTBOOT_UNIT_PATH, unit, 0o644),
    { type: 'symlink', partition: 'root', path: '/etc/systemd/system/multi-user.target.wants/pikube-firstboot.service', target: FIRSTBOOT_UNIT_PATH, uid: 0, gid: 0, origin: 'pikube first boot (enabled)' },
  ];
}
