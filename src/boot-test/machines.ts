import { formatIpv4, parseIpv4 } from '../config/ipv4.ts';
import { UserError } from '../errors.ts';

// The machines boot-test can emulate, and what each needs from the card: QEMU has no Pi firmware, so the kernel,
// device tree and initrd the firmware would load are handed to QEMU directly.
export interface Machine {
  name: MachineName;
  system: 'qemu-system-aarch64' | 'qemu-system-arm';
  architecture: 'arm64' | 'armhf';
  // Candidates on the boot partition, first found wins (config.txt's kernel= and device_tree= come first).
  kernels: string[];
  deviceTrees: string[];
  // What auto_initramfs=1 loads for this kernel.
  autoInitramfs: string;
  // config.txt sections that apply besides [all].
  sections: string[];
  args: string[];
  drive: 'sd' | 'virtio';
  // The card's device name in Linux, for root=/dev/mmcblk0pN style command lines.
  disk: string;
  // QEMU's SD card model refuses any size that is not a power of two.
  powerOfTwo: boolean;
  // The network card boot-test can give the machine for its SSH login (none on the Pi models: their Ethernet is a
  // USB chip QEMU does not emulate).
  nic?: string;
}

// The names --machine accepts, as QEMU spells them.
export type MachineName = 'raspi3b' | 'raspi2b' | 'virt';
export const MACHINE_NAMES: readonly MachineName[] = ['raspi3b', 'raspi2b', 'virt'];

// Single-threaded TCG: the default multi-threaded mode spins the Pi's secondary cores on 2 host cores and is slower.
const RASPI3B: Machine = {
  name: 'raspi3b', system: 'qemu-system-aarch64', architecture: 'arm64', kernels: ['kernel8.img'],
  deviceTrees: ['bcm2710-rpi-3-b.dtb', 'bcm2837-rpi-3-b.dtb', 'bcm2710-rpi-3-b-plus.dtb', 'bcm2837-rpi-3-b-plus.dtb'],
  autoInitramfs: 'initramfs8', sections: ['pi3'], args: ['-M', 'raspi3b', '-accel', 'tcg,thread=single'], drive: 'sd', disk: '/dev/mmcblk0', powerOfTwo: true,
};

const RASPI2B: Machine = {
  name: 'raspi2b', system: 'qemu-system-arm', architecture: 'armhf', kernels: ['kernel7.img'],
  deviceTrees: ['bcm2709-rpi-2-b.dtb', 'bcm2836-rpi-2-b.dtb'],
  autoInitramfs: 'initramfs7', sections: ['pi2'], args: ['-M', 'raspi2b', '-accel', 'tcg,thread=single'], drive: 'sd', disk: '/dev/mmcblk0', powerOfTwo: true,
};

// virt is the fastest (two emulated cores, virtio disk) but is no Pi: QEMU makes its own device tree. Its network
// card, when the login needs one, is virtio on the MMIO bus (the PCI one needs a boot ROM package).
function virt(architecture: 'arm64' | 'armhf'): Machine {
  const arm64 = architecture === 'arm64';
  return {
    name: 'virt', system: arm64 ? 'qemu-system-aarch64' : 'qemu-system-arm', architecture, kernels: [arm64 ? 'kernel8.img' : 'kernel7.img'], deviceTrees: [],
    autoInitramfs: arm64 ? 'initramfs8' : 'initramfs7', sections: [],
    args: ['-M', 'virt', '-cpu', arm64 ? 'cortex-a53' : 'cortex-a15', '-smp', '2', '-m', '1024'], drive: 'virtio', disk: '/dev/vda', powerOfTwo: false,
    nic: 'virtio-net-device',
  };
}

// The machine for a name and the image's userland architecture; raspi3b for arm64 and raspi2b for armhf by default.
export function pickMachine(name: MachineName | undefined, architecture: string): Machine {
  const chosen = name ?? (architecture === 'armhf' ? 'raspi2b' : 'raspi3b');
  if (chosen === 'virt') return virt(architecture === 'armhf' ? 'armhf' : 'arm64');
  return chosen === 'raspi2b' ? RASPI2B : RASPI3B;
}

// The static address the card was built with, which the emulated network is shaped around.
export interface GuestNetwork {
  // a.b.c.d/len
  address: string;
  gateway: string;
}

// The machine's network: none, or for a login QEMU's user-mode network, restricted so the guest reaches nothing
// (no host, no outside, no DNS answers) except through the one forward from 127.0.0.1:PORT to its port 22. A card
// with a static address gets a user network shaped like its own: the recipe's subnet, its gateway as QEMU's host
// address, and the forward aimed at the static address, while QEMU's DHCP hands out other addresses (.15 by
// default, moved if that is the card's), so only the static address answers. Without one, QEMU's own 10.0.2.0/24.
export function makeNetworkArgs(machine: Machine, login?: { port: number; network?: GuestNetwork }): string[] {
  if (!login || !machine.nic) return ['-nic', 'none'];
  const options = ['user', 'id=net0', 'restrict=on'];
  let guest = '';
  if (login.network) {
    const subnet = parseIpv4(login.network.address);
    const gateway = parseIpv4(login.network.gateway).address;
    const taken = (address: number): boolean => address === subnet.address || address === gateway;
    const dns = [3, 4, 5, 6].map((n) => subnet.network + n).find((address) => !taken(address)) ?? subnet.network + 3;
    const inPool = (start: number): boolean => subnet.address >= start && subnet.address < start + 16;
    const dhcp = [15, 100, 200, 40].map((n) => subnet.network + n).find((start) => !inPool(start) && !taken(start) && start + 16 <= subnet.broadcast) ?? subnet.network + 15;
    guest = formatIpv4(subnet.address);
    options.push(`net=${formatIpv4(subnet.network)}/${subnet.prefix}`, `host=${formatIpv4(gateway)}`, `dns=${formatIpv4(dns)}`, `dhcpstart=${formatIpv4(dhcp)}`);
  }
  options.push(`hostfwd=tcp:127.0.0.1:${login.port}-${guest}:22`);
  return ['-netdev', options.join(','), '-device', `${machine.nic},netdev=net0`];
}

// Checks a --machine value; undefined means "pick by the image's architecture".
export function parseMachine(name: string | undefined): MachineName | undefined {
  if (name === undefined) return undefined;
  if (!(MACHINE_NAMES as readonly string[]).includes(name)) throw new UserError(`unknown machine "${name}"`, `use --machine ${MACHINE_NAMES.join(', ')}`);
  return name as MachineName;
}
