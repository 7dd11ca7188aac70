import type { Machine } from './machines.ts';

// Words that make sense only on a real Pi (firmware console aliases, the splash) or that would stop the test
// (Raspberry Pi OS's own resize-and-reboot init); boot-test drops them from its copy.
const DROPPED = [/^console=/, /^quiet$/, /^splash$/, /^plymouth\./, /^init=\/usr\/lib\/raspberrypi-sys-mods\/firstboot$/];

// The copy's kernel command line: the card's cmdline.txt with the serial console QEMU shows, no reboot on panic,
// the card's device renamed for the machine, and the first-boot test flag with its node-wait seconds; with a login,
// pikube.ssh=SECONDS makes the boot-test unit wait that long for it before powering off.
export function makeTestCmdline(cmdline: string, machine: Machine, nodeWaitSeconds: number, loginWaitSeconds?: number): string {
  const words = cmdline.trim().split(/\s+/).filter((word) => word && !DROPPED.some((pattern) => pattern.test(word)) && !/^pikube\.(test|ssh)/.test(word));
  const renamed = words.map((word) => word.replace(/^root=\/dev\/(mmcblk0p|vda|sda)(\d+)$/, (_, _disk: string, part: string) => `root=${machine.disk}${machine.drive === 'sd' ? 'p' : ''}${part}`));
  return [...renamed, 'console=ttyAMA0', 'panic=-1', `pikube.test=${nodeWaitSeconds}`, ...(loginWaitSeconds === undefined ? [] : [`pikube.ssh=${loginWaitSeconds}`])].join(' ');
}
