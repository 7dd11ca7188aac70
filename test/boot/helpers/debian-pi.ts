import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { resolveCacheDir } from '../../../src/acquire/cache-dir.ts';

const MAKE_ROOT = fileURLToPath(new URL('../make-debian-root.sh', import.meta.url));
const MiB = 2 ** 20;
const BOOT_START = 8192;
const BOOT_SECTORS = 512 * 1024;
const ROOT_START = BOOT_START + BOOT_SECTORS;

// The Debian arm64 root (debootstrap, kernel, modules, busybox initrd) as a tarball in the pikube cache
// (cache/boot-test/), made once and reused by every later run. Its name holds a hash of the script that makes it,
// so a changed package list makes a new root; roots made by an older script are deleted then.
export async function ensureDebianRoot(): Promise<{ tarball: string; made: boolean; seconds: number }> {
  const dir = join(resolveCacheDir(), 'boot-test');
  const key = createHash('sha256').update(await readFile(MAKE_ROOT)).digest('hex').slice(0, 12);
  const tarball = join(dir, `debian-bookworm-arm64-root-${key}.tar`);
  if ((await stat(tarball).catch(() => undefined))?.isFile()) return { tarball, made: false, seconds: 0 };
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    if (/^debian-bookworm-arm64-root.*\.tar$/.test(name)) await rm(join(dir, name), { force: true });
  }
  const started = performance.now();
  await execa('bash', [MAKE_ROOT, tarball], { stdio: ['ignore', 'inherit', 'inherit'] });
  return { tarball, made: true, seconds: (performance.now() - started) / 1000 };
}

// A Pi-shaped card from that root, as a Raspberry Pi OS card is laid out: MBR with disk id c0ffee00, a FAT boot
// partition labelled bootfs (kernel8.img, the Pi 3 device tree under its firmware name, initramfs8 named by config.txt,
// cmdline.txt with root=PARTUUID, and the cloud-init seed Raspberry Pi OS Trixie ships: user-data, meta-data and a
// DHCP network-config) and an ext4 root whose fstab mounts the boot partition at /boot/firmware.
export async function makeDebianPiImage(tarball: string, dir: string, output: string): Promise<void> {
  const root = join(dir, 'root');
  const boot = join(dir, 'bootfiles');
  await mkdir(root, { recursive: true });
  await mkdir(boot, { recursive: true });
  await execa('tar', ['-C', root, '--numeric-owner', '-xf', tarball]);
  const kit = join(root, 'boot/pikube-test');
  await rename(join(kit, 'vmlinuz'), join(boot, 'kernel8.img'));
  await rename(join(kit, 'bcm2837-rpi-3-b.dtb'), join(boot, 'bcm2710-rpi-3-b.dtb'));
  await rename(join(kit, 'initrd.gz'), join(boot, 'initramfs8'));
  await rm(kit, { recursive: true });
  await writeFile(join(boot, 'config.txt'), 'arm_64bit=1\n[pi4]\nkernel=kernel_2712.img\n[all]\ninitramfs initramfs8 followkernel\n');
  await writeFile(join(boot, 'cmdline.txt'), 'console=serial0,115200 console=tty1 root=PARTUUID=c0ffee00-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n');
  await writeFile(join(boot, 'user-data'), '#cloud-config\n');
  await writeFile(join(boot, 'meta-data'), 'instance-id: debian-pi-base\n');
  await writeFile(join(boot, 'network-config'), 'network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      optional: true\n');
  const rootBytes = 1536 * MiB;
  await execa('truncate', ['-s', String(ROOT_START * 512 + rootBytes), output]);
  await execa('sfdisk', ['--quiet', output], { input: `label: dos\nlabel-id: 0xc0ffee00\nstart=${BOOT_START}, size=${BOOT_SECTORS}, type=c, bootable\nstart=${ROOT_START}, type=83\n` });
  await execa('mkfs.vfat', ['-F', '32', '-s', '1', '-n', 'bootfs', '--offset', String(BOOT_START), output, String(BOOT_SECTORS / 2)]);
  for (const name of ['kernel8.img', 'bcm2710-rpi-3-b.dtb', 'initramfs8', 'config.txt', 'cmdline.txt', 'user-data', 'meta-data', 'network-config']) {
    await execa('mcopy', ['-i', `${output}@@${BOOT_START * 512}`, join(boot, name), `::/${name}`], { env: { MTOOLS_SKIP_CHECK: '1' } });
  }
  await execa('mke2fs', ['-F', '-q', '-t', 'ext4', '-L', 'rootfs', '-d', root, '-E', `offset=${ROOT_START * 512}`, output, `${rootBytes / 1024}k`]);
  await rm(root, { recursive: true, force: true });
}
