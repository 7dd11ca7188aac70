import { posix } from 'node:path';
import type { FileEntry, ImageFacts, PlanEntry, SymlinkEntry } from '../plan/types.ts';
import { makeTextEntry } from '../plan/entries.ts';

// The fixes users trip on, applied at build time: swap, modules, forwarding and a clock seed (the cgroup flags go
// on the kernel command line with the other flags, in plan/kernel-cmdline.ts).
export function planPiFixes(facts: ImageFacts, builtAt: Date): PlanEntry[] {
  const origin = 'kubernetes host fixes';
  const entries: PlanEntry[] = [];
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
  if (facts.timesyncd) entries.push(...timesyncSeed(facts, origin));
  return entries;
}

// systemd-timesyncd (Raspberry Pi OS Trixie has it and no fake-hwclock) moves the clock forward at start to the
// mtime of its clock file, which the write here stamps with the build time; pi-gen's export-image makes the
// directory and the empty file owned by systemd-timesync, as here when the base has that user.
function timesyncSeed(facts: ImageFacts, origin: string): PlanEntry[] {
  const owner = facts.users['systemd-timesync'];
  const uid = owner?.uid ?? 0;
  const gid = owner?.gid ?? 0;
  const seed = `${origin} (clock seed: systemd-timesyncd)`;
  return [
    { type: 'directory', partition: 'root', path: '/var/lib/systemd/timesync', mode: 0o755, uid, gid, origin: seed },
    { type: 'file', partition: 'root', path: TIMESYNC_CLOCK, mode: 0o644, uid, gid, content: { kind: 'text', text: '' }, origin: seed },
  ];
}

// The file whose modification time systemd-timesyncd restores the clock from.
export const TIMESYNC_CLOCK = '/var/lib/systemd/timesync/clock';

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
