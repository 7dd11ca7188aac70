// What a user checks first after logging in to a new Pi, as read over SSH by boot-test.
export interface LoginReport {
  hostname: string;
  user: string;
  uid: string;
  groups: string[];
  // Every IPv4 address, as `ip -4 -o addr show` lists them.
  addresses: Array<{ interface: string; address: string }>;
  sshd: { unit: string; state: string };
  kube: { unit: string; state: string };
  // The boot partition as findmnt sees it at the first-boot env's PIKUBE_BOOT, or undefined if nothing is mounted there.
  bootMount?: { source: string; target: string; fstype: string };
  bootMountPoint: string;
  firstBoot: { state: string; result: string };
  // The card's boot-test unit had run (first boot was over) when the login looked.
  ready: boolean;
  // The last line of the first-boot status file.
  statusLine: string;
}

// What the card was built to be (from its build record), checked against what the login found.
export interface LoginExpectation {
  user: string;
  hostname?: string;
  network?: { interface: string; address: string };
}

// Reads the output of the login probe (overlay/boot-test/login-probe.sh) back into a report; undefined when it stopped before its last section.
export function parseLoginReport(text: string): LoginReport | undefined {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^@@ (\S+)$/.exec(line.trimEnd());
    if (header?.[1]) {
      current = [];
      sections.set(header[1], current);
    } else if (current && line.trim()) {
      current.push(line.trimEnd());
    }
  }
  if (!sections.has('end')) return undefined;
  const first = (name: string): string => sections.get(name)?.[0]?.trim() ?? '';
  const pair = (name: string): { unit: string; state: string } => {
    const [unit = '', state = ''] = first(name).split(/\s+/);
    return { unit, state };
  };
  const addresses = (sections.get('ipv4') ?? []).flatMap((line) => {
    const match = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    return match?.[1] && match[2] ? [{ interface: match[1], address: match[2] }] : [];
  });
  const [source, target, fstype] = first('boot-mount').split(/\s+/);
  const [state = '', result = ''] = first('firstboot').split(/\s+/);
  return {
    hostname: first('hostname'),
    user: first('user'),
    uid: first('uid'),
    groups: first('groups').split(/\s+/).filter(Boolean),
    addresses,
    sshd: pair('sshd'),
    kube: pair('kube'),
    ...(source && target && fstype ? { bootMount: { source, target, fstype } } : {}),
    bootMountPoint: first('boot-mount-point'),
    firstBoot: { state, result },
    ready: first('ready') === 'yes',
    statusLine: first('status'),
  };
}

// The problems that fail the test: a hostname, user or static address other than the build record's, sshd not
// active, the boot partition not mounted, first boot not over. The Kubernetes unit is shown but not judged (the
// emulator cannot run the real k3s).
export function judgeLogin(report: LoginReport, expected: LoginExpectation): string[] {
  const problems: string[] = [];
  if (expected.hostname && report.hostname !== expected.hostname) problems.push(`the hostname is ${report.hostname || '(empty)'}, but the recipe asked for ${expected.hostname}`);
  if (report.user !== expected.user) problems.push(`logged in as ${report.user || '(nobody)'}, not ${expected.user}`);
  if (expected.network) {
    const { interface: name, address } = expected.network;
    if (!report.addresses.some((a) => a.interface === name && a.address === address)) {
      const found = report.addresses.filter((a) => a.interface !== 'lo').map((a) => `${a.interface} ${a.address}`).join(', ') || 'none';
      problems.push(`${name} does not have the static address ${address} (IPv4 addresses: ${found})`);
    }
  }
  if (report.sshd.state !== 'active') problems.push(`${report.sshd.unit || 'the SSH server'} is ${report.sshd.state || 'unknown'}`);
  if (!report.bootMount) problems.push(`the boot partition is not mounted at ${report.bootMountPoint}`);
  else if (report.bootMount.fstype !== 'vfat') problems.push(`${report.bootMountPoint} is ${report.bootMount.fstype}, not the FAT boot partition`);
  if (!report.ready) problems.push(`first boot was not over when the login looked (pikube-firstboot.service ${report.firstBoot.state || 'unknown'})`);
  return problems;
}
