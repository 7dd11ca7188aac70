import type { Command } from 'commander';

// Registers one command (its flags and its action) on the program.
export type Register = (program: Command) => void;

// One line per command for `pikube --help`, which lists the commands without loading any of them.
export const COMMAND_SUMMARIES = {
  build: 'build an image from the recipe: the base with every planned file written into its partitions',
  plan: 'show every file, folder, symlink and partition change a build would make, without writing anything',
  inspect: 'show an image\'s partitions, filesystems, free space, OS, CPU architecture and pikube build record',
  pull: 'pull a container image for the Pi\'s platform (no Docker needed) and write it as an image tarball',
  drives: 'list drives with device, size, model, bus, removable, system and mount points',
  bmap: 'write IMAGE.bmap from the image\'s filesystems (FAT, ext4): every block but their free space, zeros included',
  flash: 'write an image (.img, .gz, .xz, .zip) to an SD card: only its mapped blocks with a .bmap, partition table last, read back and verified',
  cache: 'show or trim the download cache (base images and artifacts, content-addressed by sha256)',
  doctor: 'list the host tools pikube needs, whether they are installed and new enough, and which package provides each',
  'boot-test': 'boot a throw-away copy of IMAGE in QEMU and report what first boot did (exit 0 only if every step an emulator can prove passed)',
} as const;

export type CommandName = keyof typeof COMMAND_SUMMARIES;

// Each command lives in its own module, loaded only when it runs, so `pikube flash` does not pay for the
// registry client or the PKI library at start-up.
export const COMMAND_LOADERS: Record<CommandName, () => Promise<Register>> = {
  build: async () => (await import('./build.ts')).registerBuildCommand,
  plan: async () => (await import('./plan.ts')).registerPlanCommand,
  inspect: async () => (await import('./inspect.ts')).registerInspectCommand,
  pull: async () => (await import('./pull.ts')).registerPullCommand,
  drives: async () => (await import('./drives.ts')).registerDrivesCommand,
  flash: async () => (await import('./flash.ts')).registerFlashCommand,
  bmap: async () => (await import('./bmap.ts')).registerBmapCommand,
  cache: async () => (await import('./cache.ts')).registerCacheCommand,
  doctor: async () => (await import('./doctor.ts')).registerDoctorCommand,
  'boot-test': async () => (await import('./boot-test.ts')).registerBootTestCommand,
};
