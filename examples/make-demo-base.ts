// DEMO BASE ONLY: makes a small Raspberry Pi-shaped disk image (MBR or GPT, a FAT32 boot partition and an
// ext4 root with a minimal Debian-like tree) so the README example and the tests work with no internet.
// It boots nothing: its "binaries" are bare ELF headers that tell pikube the CPU architecture.
// With `os`, it carries the files pikube tells that OS by (see OS_SHAPES below).
// Usage: npx tsx examples/make-demo-base.ts OUT.img [--arch armhf|arm64] [--os hypriot|bookworm|trixie] [--gpt] [--size-mib N]
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
  // The shape of a real release: its os-release, init files and services, as pikube reads them (implies arch,
  // cloud-init and NetworkManager unless those are given).
  os?: DemoOs;
}

export type DemoOs = 'hypriot' | 'bookworm' | 'trixie';

// What each release ships that pikube looks at. HypriotOS 1.12 (image-builder-rpi chroot-script.sh): Raspbian 10,
// cloud-init 0.7 seeded from /boot, ifupdown, Docker, avahi, fake-hwclock linked to /boot. Raspberry Pi OS
// Bookworm (pi-gen): NetworkManager, no cloud-init, fake-hwclock and systemd-timesyncd, dphys-swapfile,
// raspberrypi-sys-mods' sshswitch and regenerate_ssh_host_keys, radio off in NetworkManager.state.
// Raspberry Pi OS Trixie: cloud-init on the boot partition, NetworkManager, systemd-timesyncd without
// fake-hwclock, rpi-swap.
const OS_SHAPES: Record<DemoOs, { arch: 'armhf' | 'arm64'; cloudInit: boolean; networkManager: boolean }> = {
  hypriot: { arch: 'armhf', cloudInit: true, networkManager: false },
  bookworm: { arch: 'arm64', cloudInit: false, networkManager: true },
  trixie: { arch: 'arm64', cloudInit: true, networkManager: true },
};

const FAKE_TIME = { E2FSPROGS_FAKE_TIME: '1593648000', SOURCE_DATE_EPOCH: '1593648000', MTOOLS_SKIP_CHECK: '1' };

// Makes the image; every step is a real disk tool, none needs root.
export async function makeDemoBase(options: DemoBaseOptions): Promise<void> {
  const shape = options.os ? OS_SHAPES[options.os] : undefined;
  const arch = options.arch ?? shape?.arch ?? 'armhf';
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
    // Bookworm's pi-gen line ends in raspberrypi-sys-mods' firstboot init (stage2 07-resize-init.diff).
    const init = options.os === 'bookworm' ? ' quiet init=/usr/lib/raspberrypi-sys-mods/firstboot' : '';
    await writeFile(join(bootDir, 'cmdline.txt'), `console=serial0,115200 console=tty1 root=PARTUUID=${partuuid} rootfstype=ext4 fsck.repair=yes rootwait${init}\n`);
    await writeFile(join(bootDir, 'config.txt'), arch === 'arm64' ? 'arm_64bit=1\n' : 'enable_uart=0\n');
    if (options.cloudInit ?? shape?.cloudInit ?? arch === 'armhf') {
      await writeFile(join(bootDir, 'user-data'), options.os === 'hypriot' ? HYPRIOT_USER_DATA : '#cloud-config\nhostname: black-pearl\n');
      await writeFile(join(bootDir, 'meta-data'), 'instance-id: demo-base\n');
    }
    if (options.os === 'hypriot') await writeFile(join(bootDir, 'fake-hwclock.data'), '2020-07-02 00:00:00\n');
    for (const name of ['cmdline.txt', 'config.txt', 'user-data', 'meta-data', 'fake-hwclock.data']) {
      await execa('mcopy', ['-i', `${options.path}@@${bootStart * 512}`, join(bootDir, name), `::/${name}`], { env: FAKE_TIME, reject: false });
    }
    const root = join(work, 'root');
    await populateRoot(root, { arch, partuuid, networkManager: options.networkManager ?? shape?.networkManager ?? arch === 'arm64', fillerMiB: options.fillerMiB ?? 0 });
    if (options.os) await shapeRoot(root, options.os, arch);
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

// Hypriot's stock user-data (image-builder-rpi builder/files/boot/user-data), trimmed to its keys.
const HYPRIOT_USER_DATA = `#cloud-config
hostname: black-pearl
manage_etc_hosts: true
users:
  - name: pirate
    gecos: "Hypriot Pirate"
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    groups: users,docker,video,input
    plain_text_passwd: hypriot
    lock_passwd: false
    ssh_pwauth: true
    chpasswd: { expire: false }
runcmd:
  # Pickup the hostname changes
  - 'systemctl restart avahi-daemon'
`;

// The files each release has that pikube reads: os-release lines, services, state files, users.
async function shapeRoot(root: string, os: DemoOs, arch: string): Promise<void> {
  const put = async (path: string, body: string | Buffer, mode = 0o644) => {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), body, { mode });
  };
  const unit = '[Unit]\nDescription=demo\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n';
  const release = {
    hypriot: 'PRETTY_NAME="Raspbian GNU/Linux 10 (buster)"\nNAME="Raspbian GNU/Linux"\nVERSION_ID="10"\nVERSION_CODENAME=buster\nID=raspbian\nID_LIKE=debian\nHYPRIOT_OS="HypriotOS/armhf"\nHYPRIOT_DEVICE="Raspberry Pi"\nHYPRIOT_IMAGE_VERSION="v1.12.3"\n',
    bookworm: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
    trixie: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
  }[os];
  await put('usr/lib/os-release', release);
  await put('usr/lib/systemd/system/ssh.service', unit);
  await put('usr/sbin/sshd', elfHeader(arch), 0o755);
  await put('usr/sbin/avahi-daemon', elfHeader(arch), 0o755);
  if (os === 'hypriot') {
    await put('usr/bin/cloud-init', '#!/usr/bin/python3\n', 0o755);
    await put('usr/lib/python3/dist-packages/cloudinit/version.py', "__VERSION__ = '0.7.9'\n");
    await put('etc/network/interfaces', 'source /etc/network/interfaces.d/*\n');
    await mkdir(join(root, 'etc/network/interfaces.d'), { recursive: true });
    await put('usr/sbin/iptables-legacy', elfHeader(arch), 0o755);
    await writeFile(join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nadm:x:4:pirate\nvideo:x:44:pirate\ninput:x:105:pirate\nusers:x:100:pirate\ndocker:x:995:pirate\npirate:x:1000:\n');
    return;
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsystemd-timesync:x:992:992:systemd Time Synchronization:/:/usr/sbin/nologin\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nadm:x:4:pi\nvideo:x:44:pi\nusers:x:100:pi\nsystemd-timesync:x:992:\npi:x:1000:\n');
  await put('usr/lib/systemd/systemd-timesyncd', elfHeader(arch), 0o755);
  await put('var/lib/NetworkManager/NetworkManager.state', '[main]\nWirelessEnabled=false\n');
  for (const addr of ['107d50c000.serial', '3f215040.serial', 'fe215040.serial']) await put(`var/lib/systemd/rfkill/platform-${addr}:bluetooth`, '0\n');
  if (os === 'bookworm') {
    await put('usr/sbin/fake-hwclock', '#!/bin/sh\n', 0o755);
    await put('etc/fake-hwclock.data', '2025-11-24 10:00:00\n');
    await put('usr/sbin/dphys-swapfile', '#!/bin/sh\n', 0o755);
    await rm(join(root, 'etc/rpi'), { recursive: true, force: true });
    await put('usr/lib/systemd/system/regenerate_ssh_host_keys.service', unit);
    await put('usr/lib/systemd/system/sshswitch.service', unit);
    await put('usr/lib/raspberrypi-sys-mods/regenerate_ssh_host_keys', '#!/bin/sh -e\nrm -f /etc/ssh/ssh_host_*_key*\nssh-keygen -A > /dev/null\n', 0o755);
    return;
  }
  await put('usr/bin/cloud-init', '#!/usr/bin/python3\n', 0o755);
  await put('usr/lib/systemd/system/regenerate_ssh_host_keys.service', unit);
  await put('var/lib/systemd/timesync/clock', '');
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
    process.stderr.write('usage: npx tsx examples/make-demo-base.ts OUT.img [--arch armhf|arm64] [--os hypriot|bookworm|trixie] [--gpt] [--size-mib N]\n');
    process.exit(1);
  }
  const flag = (name: string) => args[args.indexOf(name) + 1];
  await makeDemoBase({
    path,
    ...(args.includes('--arch') ? { arch: flag('--arch') as 'armhf' | 'arm64' } : {}),
    ...(args.includes('--os') ? { os: flag('--os') as DemoOs } : {}),
    table: args.includes('--gpt') ? 'gpt' : 'dos',
    ...(args.includes('--size-mib') ? { sizeMiB: Number(flag('--size-mib')) } : {}),
  });
  process.stderr.write(`made demo base ${path} (not a bootable OS: for pikube's example and tests only)\n`);
}
