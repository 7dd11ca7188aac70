// Every host tool pikube runs, who provides it and which commands need it: the one table
// that `pikube doctor` prints and that every command checks before it starts work.
export interface Requirement {
  tool: string;
  debian: string;
  homebrew: string;
  // Arguments that make the tool print its version, and how to find the number in that output.
  versionArgs: string[];
  versionPattern: RegExp;
  minVersion?: string;
  commands: string[];
  // Only some runs need it (e.g. --backend mount); doctor still lists it.
  optional?: string;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { tool: 'sfdisk', debian: 'fdisk', homebrew: 'util-linux', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, minVersion: '2.32', commands: ['build', 'plan', 'inspect', 'boot-test', 'bmap'] },
  { tool: 'mcopy', debian: 'mtools', homebrew: 'mtools', versionArgs: ['--version'], versionPattern: /(\d+\.\d+\.\d+)/, minVersion: '4.0.18', commands: ['build', 'plan', 'inspect', 'boot-test'] },
  { tool: 'mmd', debian: 'mtools', homebrew: 'mtools', versionArgs: ['--version'], versionPattern: /(\d+\.\d+\.\d+)/, commands: ['build'] },
  { tool: 'mdir', debian: 'mtools', homebrew: 'mtools', versionArgs: ['--version'], versionPattern: /(\d+\.\d+\.\d+)/, commands: ['build', 'plan', 'inspect'] },
  { tool: 'mtype', debian: 'mtools', homebrew: 'mtools', versionArgs: ['--version'], versionPattern: /(\d+\.\d+\.\d+)/, commands: ['build', 'plan', 'inspect', 'boot-test'] },
  { tool: 'minfo', debian: 'mtools', homebrew: 'mtools', versionArgs: ['--version'], versionPattern: /(\d+\.\d+\.\d+)/, commands: ['build', 'plan', 'inspect'] },
  { tool: 'debugfs', debian: 'e2fsprogs', homebrew: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, minVersion: '1.45.0', commands: ['build', 'plan', 'inspect', 'boot-test'] },
  { tool: 'dumpe2fs', debian: 'e2fsprogs', homebrew: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build', 'plan', 'inspect', 'bmap'] },
  { tool: 'e2fsck', debian: 'e2fsprogs', homebrew: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build'] },
  { tool: 'resize2fs', debian: 'e2fsprogs', homebrew: 'e2fsprogs', versionArgs: [], versionPattern: /resize2fs (\d+\.\d+(?:\.\d+)?)/, commands: ['build'] },
  { tool: 'fsck.fat', debian: 'dosfstools', homebrew: 'dosfstools', versionArgs: ['--help'], versionPattern: /fsck\.fat (\d+\.\d+(?:\.\d+)?)/, commands: ['build'], optional: 'checks the boot partition after a build' },
  { tool: 'losetup', debian: 'mount', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build'], optional: 'only for --backend mount (root)' },
  { tool: 'mount', debian: 'mount', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build'], optional: 'only for --backend mount (root)' },
  { tool: 'umount', debian: 'mount', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build', 'flash'], optional: 'for --backend mount (root), and to unmount a card before flashing' },
  { tool: 'cp', debian: 'coreutils', homebrew: 'coreutils', versionArgs: ['--version'], versionPattern: /(\d+\.\d+)/, commands: ['build', 'plan', 'boot-test'] },
  { tool: 'dd', debian: 'coreutils', homebrew: 'coreutils', versionArgs: ['--version'], versionPattern: /(\d+\.\d+)/, commands: ['build'] },
  { tool: 'fallocate', debian: 'util-linux', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build'], optional: 'only when the root partition must grow' },
  { tool: 'openssl', debian: 'openssl', homebrew: 'openssl', versionArgs: ['version'], versionPattern: /OpenSSL (\d+\.\d+\.\d+)/, minVersion: '1.1.1', commands: ['build', 'plan'] },
  { tool: 'xz', debian: 'xz-utils', homebrew: 'xz', versionArgs: ['--version'], versionPattern: /xz \(XZ Utils\) (\d+\.\d+\.\d+)/, minVersion: '5.2.0', commands: ['build', 'flash'], optional: 'only for .xz images' },
  { tool: 'blockdev', debian: 'util-linux', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['flash'] },
  { tool: 'lsblk', debian: 'util-linux', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['flash', 'drives'] },
  { tool: 'udisksctl', debian: 'udisks2', homebrew: '(Linux only)', versionArgs: ['help'], versionPattern: /(\d+\.\d+\.\d+)/, commands: ['flash'], optional: 'powers the card reader off after flashing' },
  { tool: 'eject', debian: 'eject', homebrew: '(Linux only)', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['flash'], optional: 'ejects the card after flashing when udisksctl is missing' },
  { tool: 'tar', debian: 'tar', homebrew: 'gnu-tar', versionArgs: ['--version'], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, commands: ['build', 'plan'], optional: 'only for the static Kubernetes profile (unpacks containerd and the CNI plugins)' },
  { tool: 'ssh-keygen', debian: 'openssh-client', homebrew: 'openssh', versionArgs: ['-V'], versionPattern: /OpenSSH_(\d+\.\d+)/, commands: ['build'], optional: 'only for `cluster:` recipes (one SSH host key set per card)' },
  { tool: 'ssh', debian: 'openssh-client', homebrew: 'openssh', versionArgs: ['-V'], versionPattern: /OpenSSH_(\d+\.\d+)/, commands: ['boot-test'], optional: 'logs in to the booted card over SSH (boot-test --ssh)' },
  { tool: 'qemu-system-aarch64', debian: 'qemu-system-arm', homebrew: 'qemu', versionArgs: ['--version'], versionPattern: /version (\d+\.\d+(?:\.\d+)?)/, minVersion: '7.0', commands: ['boot-test'], optional: 'boots arm64 images (raspi3b, virt)' },
  { tool: 'qemu-system-arm', debian: 'qemu-system-arm', homebrew: 'qemu', versionArgs: ['--version'], versionPattern: /version (\d+\.\d+(?:\.\d+)?)/, minVersion: '7.0', commands: ['boot-test'], optional: 'boots armhf images (raspi2b)' },
];

// Looks a tool up by the name it is run as.
export function findRequirement(tool: string): Requirement | undefined {
  return REQUIREMENTS.find((requirement) => requirement.tool === tool);
}
