// DEMO BASE ONLY: makes a small Raspberry Pi-shaped disk image (MBR or GPT, a FAT32 boot partition and an
// ext4 root with a minimal Debian-like tree) so the README example and the tests work with no internet.
// It boots nothing: its "binaries" are bare ELF headers that tell pikube the CPU architecture.
// Usage: npx tsx examples/make-demo-base.ts OUT.img [--arch armhf|arm64] [--gpt] [--size-mib N]
import { chmod, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { execa } from 'execa';

export interface DemoBaseOptions {
  path: string;
  arch?: 'armhf' | 'arm64';
  table?: 'dos' | 'gpt';
  sizeMiB?: number;
  bootMiB?: number;
  // Root filesystem size; the rest of the image is left unpartitioned (Hypriot grows root on first boot).
  rootMiB?: number;
  cloudInit?: boolean;
  networkManager?: boolean;
  // Extra bytes of incompressible data under /opt/filler, to make a base "hold" something.
  fillerMiB?: number;
}

const FAKE_TIME = { E2FSPROGS_FAKE_TIME: '1593648000', SOURCE_DATE_EPOCH: '1593648000', MTOOLS_SKIP_CHECK: '1' };

// Makes the image; every step is a real disk tool, none needs root.
export async function makeDemoBase(options: DemoBaseOptions): Promise<void> {
  const arch = options.arch ?? 'armhf';
  const table = options.table ?? 'dos';
  const bootMiB = options.bootMiB ?? 64;
  const sizeMiB = options.sizeMiB ?? 256;
  const rootMiB = options.rootMiB ?? sizeMiB - 4 - bootMiB - (table === 'gpt' ? 1 : 0);
  const bootStart = 8192;
  const rootStart = bootStart + bootMiB * 2048;
  await rm(options.path, { force: true });
  await truncate(options.path, 0).catch(() => writeFile(options.path, ''));
  await truncate(options.path, sizeMiB * 2 ** 20);
  const layout = table === 'dos'
    ? `label: dos\nlabel-id: 0x5452574f\nstart=${bootStart}, size=${bootMiB * 2048}, type=c, bootable\nstart=${rootStart}, size=${rootMiB * 2048}, type=83\n`
    : `label: gpt\nlabel-id: 5452574F-0000-4000-8000-000000000001\nstart=${bootStart}, size=${bootMiB * 2048}, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5452574F-0000-4000-8000-000000000002\nstart=${rootStart}, size=${rootMiB * 2048}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5452574F-0000-4000-8000-000000000003\n`;
  await execa('sfdisk', ['--quiet', options.path], { input: layout });
  const partuuid = table === 'dos' ? '5452574f-02' : '5452574f-0000-4000-8000-000000000003';
  await execa('mkfs.vfat', ['-s', '1', '-F', '32', '-i', '5452574f', '-n', arch === 'armhf' ? 'HypriotOS' : 'bootfs', '--offset', String(bootStart), options.path, String(bootMiB * 1024)]);
  const work = await mkdtemp(join(tmpdir(), 'pikube-demo-'));
  try {
    const bootDir = join(work, 'boot');
    await mkdir(bootDir);
    await writeFile(join(bootDir, 'cmdline.txt'), `console=serial0,115200 console=tty1 root=PARTUUID=${partuuid} rootfstype=ext4 fsck.repair=yes rootwait\n`);
    await writeFile(join(bootDir, 'config.txt'), arch === 'arm64' ? 'arm_64bit=1\n' : 'enable_uart=0\n');
    if (options.cloudInit ?? arch === 'armhf') {
      await writeFile(join(bootDir, 'user-data'), '#cloud-config\nhostname: black-pearl\n');
      await writeFile(join(bootDir, 'meta-data'), 'instance-id: demo-base\n');
    }
    for (const name of ['cmdline.txt', 'config.txt', 'user-data', 'meta-data']) {
      await execa('mcopy', ['-i', `${options.path}@@${bootStart * 512}`, join(bootDir, name), `::/${name}`], { env: FAKE_TIME, reject: false });
    }
    const root = join(work, 'root');
    await populateRoot(root, { arch, partuuid, networkManager: options.networkManager ?? arch === 'arm64', fillerMiB: options.fillerMiB ?? 0 });
    await execa('mke2fs', ['-F', '-q', '-t', 'ext4', '-L', arch === 'armhf' ? 'root' : 'rootfs', '-U', '5452574f-0000-4000-8000-00000000000a',
      '-E', `offset=${rootStart * 512},hash_seed=5452574f-0000-4000-8000-00000000000b,root_owner=0:0`, '-d', root, options.path, `${rootMiB * 1024}k`], { env: FAKE_TIME });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function populateRoot(root: string, o: { arch: string; partuuid: string; networkManager: boolean; fillerMiB: number }): Promise<void> {
  for (const dir of ['etc', 'usr/bin', 'usr/lib', 'usr/sbin', 'home/pirate', 'var/lib', 'run', 'boot', 'opt']) await mkdir(join(root, dir), { recursive: true });
  await symlink('usr/bin', join(root, 'bin'));
  await symlink('/run', join(root, 'var/run'));
  const pretty = o.arch === 'armhf' ? 'Raspbian GNU/Linux 10 (buster) [pikube demo base]' : 'Debian GNU/Linux 13 (trixie) [pikube demo base]';
  await writeFile(join(root, 'usr/lib/os-release'), `PRETTY_NAME="${pretty}"\nNAME="Debian GNU/Linux"\nID=${o.arch === 'armhf' ? 'raspbian' : 'debian'}\nVERSION_ID="${o.arch === 'armhf' ? '10' : '13'}"\n`);
  await symlink('../usr/lib/os-release', join(root, 'etc/os-release'));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\npirate:x:1000:1000:pirate:/home/pirate:/bin/bash\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nadm:x:4:pirate\nvideo:x:44:pirate\nusers:x:100:\npirate:x:1000:\n');
  await writeFile(join(root, 'etc/hostname'), 'black-pearl\n');
  await writeFile(join(root, 'etc/fstab'), `proc /proc proc defaults 0 0\nPARTUUID=${o.partuuid.replace(/-0?2$|-[0-9a-f]+$/, '')}-01 /boot vfat defaults 0 2\nPARTUUID=${o.partuuid} / ext4 defaults,noatime 0 1\n`);
  await writeFile(join(root, 'usr/bin/env'), elfHeader(o.arch));
  await chmod(join(root, 'usr/bin/env'), 0o755);
  if (o.arch === 'armhf') {
    await writeFile(join(root, 'usr/bin/docker'), elfHeader(o.arch));
    await chmod(join(root, 'usr/bin/docker'), 0o755);
    await symlink('/boot/fake-hwclock.data', join(root, 'etc/fake-hwclock.data'));
  } else {
    await mkdir(join(root, 'boot/firmware'), { recursive: true });
    await mkdir(join(root, 'etc/rpi'), { recursive: true });
    await writeFile(join(root, 'etc/rpi/swap.conf'), '[Main]\nMechanism=auto\n');
  }
  if (o.networkManager) {
    await mkdir(join(root, 'etc/NetworkManager/system-connections'), { recursive: true });
    await writeFile(join(root, 'usr/sbin/NetworkManager'), elfHeader(o.arch));
  }
  if (o.fillerMiB > 0) {
    const chunk = Buffer.alloc(2 ** 20);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let n = 0; n < o.fillerMiB; n += 64) {
      const parts: Buffer[] = [];
      for (let i = n; i < Math.min(n + 64, o.fillerMiB); i++) { chunk.writeUInt32LE(i, 0); parts.push(Buffer.from(chunk)); }
      await writeFile(join(root, 'opt', `filler-${n}.bin`), Buffer.concat(parts));
    }
  }
}

// A bare ELF header: enough for any tool that reads the machine type, useless to run.
export function elfHeader(arch: string): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = arch === 'arm64' ? 2 : 1;
  header[5] = 1;
  header[6] = 1;
  header.writeUInt16LE(2, 16);
  header.writeUInt16LE(arch === 'arm64' ? 0xb7 : 0x28, 18);
  header.writeUInt32LE(1, 20);
  if (arch !== 'arm64') header.writeUInt32LE(0x05000400, 36);
  return header;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const args = process.argv.slice(2);
  const path = args.find((a) => !a.startsWith('--'));
  if (!path) {
    process.stderr.write('usage: npx tsx examples/make-demo-base.ts OUT.img [--arch armhf|arm64] [--gpt] [--size-mib N]\n');
    process.exit(1);
  }
  const flag = (name: string) => args[args.indexOf(name) + 1];
  await makeDemoBase({
    path,
    arch: args.includes('--arch') ? (flag('--arch') as 'armhf' | 'arm64') : 'armhf',
    table: args.includes('--gpt') ? 'gpt' : 'dos',
    ...(args.includes('--size-mib') ? { sizeMiB: Number(flag('--size-mib')) } : {}),
  });
  process.stderr.write(`made demo base ${path} (not a bootable OS: for pikube's example and tests only)\n`);
}
