import { posix } from 'node:path';
import type { FileEntry, ImageFacts, PlanEntry, SymlinkEntry } from '../plan/types.ts';
import { makeTextEntry } from '../plan/entries.ts';

// Kernel flags Kubernetes needs on a Pi: the memory cgroup is off by default (and since the 6.12 kernels disabled
// by the device tree), cpuset is needed by the kubelet on older kernels.
export const CGROUP_FLAGS = ['cgroup_enable=cpuset', 'cgroup_enable=memory', 'cgroup_memory=1'];

// Appends each flag the one line of cmdline.txt lacks, so a second build over a built image adds nothing.
export function appendKernelFlags(cmdline: string, flags: readonly string[]): string {
  const words = cmdline.trim().split(/\s+/).filter(Boolean);
  return [...words, ...flags.filter((flag) => !words.includes(flag))].join(' ');
}

// The fixes users trip on, applied at build time: cgroups, swap, modules, forwarding and a clock seed.
export function planPiFixes(facts: ImageFacts, builtAt: Date): PlanEntry[] {
  const origin = 'kubernetes host fixes';
  const entries: PlanEntry[] = [];
  if (facts.cmdline !== undefined) entries.push(makeTextEntry('boot', '/cmdline.txt', `${appendKernelFlags(facts.cmdline, CGROUP_FLAGS)}\n`, 0o644, origin));
  if (facts.swap === 'rpi-swap') {
    entries.push(makeTextEntry('root', '/etc/rpi/swap.conf.d/90-pikube-no-swap.conf', '[Main]\nMechanism=none\n', 0o644, `${origin} (swap off)`));
  } else if (facts.swap === 'dphys-swapfile') {
    const mask: SymlinkEntry = { type: 'symlink', partition: 'root', path: '/etc/systemd/system/dphys-swapfile.service', target: '/dev/null', uid: 0, gid: 0, origin: `${origin} (swap off)` };
    entries.push(mask);
  }
  entries.push(makeTextEntry('root', '/etc/modules-load.d/pikube-kubernetes.conf', 'overlay\nbr_netfilter\n', 0o644, origin));
  entries.push(makeTextEntry('root', '/etc/sysctl.d/90-pikube-kubernetes.conf',
    'net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n', 0o644, origin));
  entries.push(clockSeed(facts, builtAt, origin));
  return entries;
}

// fake-hwclock restores this time at boot, so certificates made today are not "not yet valid" on a Pi with no RTC.
// Hypriot links /etc/fake-hwclock.data to the boot partition; the seed goes where the link points.
function clockSeed(facts: ImageFacts, builtAt: Date, origin: string): FileEntry {
  const stamp = `${builtAt.toISOString().replace('T', ' ').slice(0, 19)}\n`;
  if (facts.fakeHwclock.kind === 'symlink') {
    const target = posix.resolve('/etc', facts.fakeHwclock.target);
    if (target.startsWith(`${facts.bootMount}/`)) return { ...makeTextEntry('boot', target.slice(facts.bootMount.length), stamp, 0o644, `${origin} (clock seed)`), stamped: true };
  }
  return { ...makeTextEntry('root', '/etc/fake-hwclock.data', stamp, 0o644, `${origin} (clock seed)`), stamped: true };
}
