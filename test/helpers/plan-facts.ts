import type { ImageFacts } from '../../src/plan/types.ts';

const partition = (number: number, start: number, size: number, type: string) => ({ number, start, size, type, partuuid: `5452574f-0${number}` });

// A Raspberry Pi OS Trixie-shaped base: cloud-init on the boot partition, NetworkManager, timesyncd, cgroup v2.
export function trixieFacts(overrides: Partial<ImageFacts> = {}): ImageFacts {
  const boot = partition(1, 8192, 1048576, 'c');
  const root = partition(2, 1056768, 4194304, '83');
  return {
    path: '/bases/trixie.img', size: 2684354560,
    table: { label: 'dos', id: '0x5452574f', sectorSize: 512, partitions: [boot, root] },
    boot: { ...boot, freeBytes: 400 * 2 ** 20, label: 'bootfs' },
    root: { ...root, freeBytes: 1024 * 2 ** 20, blockSize: 4096, freeInodes: 100000, label: 'rootfs', isLast: true },
    architecture: 'arm64', osRelease: { ID: 'debian', VERSION_ID: '13', VERSION_CODENAME: 'trixie' },
    users: { root: { uid: 0, gid: 0, home: '/root' }, pi: { uid: 1000, gid: 1000, home: '/home/pi' } },
    groups: { root: 0, pi: 1000, sudo: 27 },
    cloudInit: true, networkManager: true, cmdline: 'console=serial0,115200 root=PARTUUID=5452574f-02 rootwait',
    bootMount: '/boot/firmware', swap: 'rpi-swap', fakeHwclock: { kind: 'absent' }, docker: false, rsaHostKey: false,
    hypriot: false, cgroupV1: false, timesyncd: true, hostKeyRegeneration: true,
    ...overrides,
  };
}

// A Bookworm-shaped base whose raspberrypi-sys-mods firstboot init remakes host keys (no cloud-init).
export function bookwormFacts(): ImageFacts {
  return trixieFacts({
    path: '/bases/bookworm.img', osRelease: { ID: 'debian', VERSION_ID: '12', VERSION_CODENAME: 'bookworm' },
    users: { root: { uid: 0, gid: 0, home: '/root' } }, groups: { root: 0 },
    cloudInit: false, cmdline: 'console=serial0,115200 root=PARTUUID=5452574f-02 rootwait init=/usr/lib/raspberrypi-sys-mods/firstboot',
    swap: 'dphys-swapfile',
  });
}
