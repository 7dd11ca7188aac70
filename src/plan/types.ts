// The plan is plain data: every entry pikube will write into each partition and every partition change.
// It is printed by `pikube plan`, applied by src/image/apply-plan.ts, and never holds file contents of any size.

export type PartitionRole = 'boot' | 'root';

// Where a file's bytes come from: text held in the plan, or a host file read at apply time.
export type ContentSource =
  | { kind: 'text'; text: string }
  | { kind: 'host'; path: string; size: number; sha256: string };

export interface DirectoryEntry {
  type: 'directory';
  partition: PartitionRole;
  path: string;
  mode: number;
  uid: number;
  gid: number;
  origin: string;
  // Create when missing, but leave an existing directory's mode and owner alone (parents such as /etc).
  ensure?: boolean;
}

export interface FileEntry {
  type: 'file';
  partition: PartitionRole;
  path: string;
  mode: number;
  uid: number;
  gid: number;
  content: ContentSource;
  origin: string;
  // Its bytes hold the build time (build record, clock seed): a cluster card's digest leaves it out.
  stamped?: boolean;
}

export interface SymlinkEntry {
  type: 'symlink';
  partition: PartitionRole;
  path: string;
  target: string;
  uid: number;
  gid: number;
  origin: string;
}

export type PlanEntry = DirectoryEntry | FileEntry | SymlinkEntry;

export interface PartitionFacts {
  number: number;
  start: number;
  size: number;
  type: string;
  partuuid: string;
}

// What acquire and inspection learned about the base image: the plan's only view of the outside world.
export interface ImageFacts {
  path: string;
  size: number;
  table: { label: 'dos' | 'gpt'; id: string; sectorSize: number; partitions: PartitionFacts[] };
  boot: PartitionFacts & { freeBytes: number; label: string };
  root: PartitionFacts & { freeBytes: number; blockSize: number; freeInodes: number; label: string; isLast: boolean };
  architecture: string;
  osRelease: Record<string, string>;
  users: Record<string, { uid: number; gid: number; home: string }>;
  groups: Record<string, number>;
  cloudInit: boolean;
  networkManager: boolean;
  // The one line of cmdline.txt on the boot partition, when the base has one.
  cmdline?: string;
  // Where the running system mounts the boot partition: /boot (Hypriot, older Raspberry Pi OS) or /boot/firmware.
  bootMount: '/boot' | '/boot/firmware';
  // How the base makes swap, so a profile can turn it off the base's own way.
  swap: 'rpi-swap' | 'dphys-swapfile' | 'none';
  // /etc/fake-hwclock.data as the base has it: a symlink's target (Hypriot points it at /boot), a plain file, or absent.
  fakeHwclock: { kind: 'symlink'; target: string } | { kind: 'file' } | { kind: 'absent' };
  docker: boolean;
  // The base ships an RSA SSH host key (stock bases make theirs at first boot): cluster cards each need their own.
  rsaHostKey: boolean;
  // HypriotOS (its os-release carries HYPRIOT_* lines): Buster userland, cloud-init 0.7, ifupdown, Docker.
  hypriot: boolean;
  // The kubelet will find cgroup v1: Debian 10 (Buster, Hypriot) and older boot systemd in hybrid mode, and
  // systemd.unified_cgroup_hierarchy=0 on the command line forces it anywhere.
  cgroupV1: boolean;
  // systemd-timesyncd is installed: it keeps the clock monotonic from /var/lib/systemd/timesync/clock's mtime.
  timesyncd: boolean;
  // raspberrypi-sys-mods' regenerate_ssh_host_keys.service, which deletes and remakes the host keys at first boot.
  hostKeyRegeneration: boolean;
}

export interface Growth {
  partition: number;
  fromBytes: number;
  toBytes: number;
  imageBytes: number;
  reason: string;
}

export interface BuildInput {
  role: string;
  name: string;
  sha256: string;
  url?: string;
}

export interface Plan {
  pikubeVersion: string;
  recipeSha256: string;
  base: { path: string; label: 'dos' | 'gpt'; diskId: string; architecture: string };
  growth: Growth | null;
  entries: PlanEntry[];
  inputs: BuildInput[];
  payloadBytes: { boot: number; root: number };
}
