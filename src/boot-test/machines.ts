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

// virt is the fastest (two emulated cores, virtio disk) but is no Pi: QEMU makes its own device tree. No network
// card (its default one needs a boot ROM package, and the test has no network anyway).
function virt(architecture: 'arm64' | 'armhf'): Machine {
  const arm64 = architecture === 'arm64';
  return {
    name: 'virt', system: arm64 ? 'qemu-system-aarch64' : 'qemu-system-arm', architecture, kernels: [arm64 ? 'kernel8.img' : 'kernel7.img'], deviceTrees: [],
    autoInitramfs: arm64 ? 'initramfs8' : 'initramfs7', sections: [],
    args: ['-M', 'virt', '-cpu', arm64 ? 'cortex-a53' : 'cortex-a15', '-smp', '2', '-m', '1024', '-nic', 'none'], drive: 'virtio', disk: '/dev/vda', powerOfTwo: false,
  };
}

// The machine for a name and the image's userland architecture; raspi3b for arm64 and raspi2b for armhf by default.
export function pickMachine(name: MachineName | undefined, architecture: string): Machine {
  const chosen = name ?? (architecture === 'armhf' ? 'raspi2b' : 'raspi3b');
  if (chosen === 'virt') return virt(architecture === 'armhf' ? 'armhf' : 'arm64');
  return chosen === 'raspi2b' ? RASPI2B : RASPI3B;
}
