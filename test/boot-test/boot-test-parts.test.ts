import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parseBootConfig } from '../../src/boot-test/boot-config.ts';
import { readMilestone } from '../../src/boot-test/console-timeline.ts';
import { logInWhileBooted, pickFreePort } from '../../src/boot-test/log-in.ts';
import { locateOverlayScript } from '../../src/acquire/overlay-scripts.ts';
import { judgeLogin, parseLoginReport } from '../../src/boot-test/login-report.ts';
import { makeNetworkArgs, pickMachine } from '../../src/boot-test/machines.ts';
import { planLogin } from '../../src/boot-test/plan-login.ts';
import { judgeSteps, parseStatus } from '../../src/boot-test/status-report.ts';
import { makeTestCmdline } from '../../src/boot-test/test-cmdline.ts';
import { makeSshArgs } from '../../src/tools/ssh.ts';
import { runCli } from '../helpers/cli.ts';
import { makeBase } from '../helpers/image.ts';
import { makeTempDir } from '../helpers/temp.ts';

test('the copy\'s command line: serial console, no splash or resize init, the card renamed for the machine, the test flag once', (t) => {
  const pi = 'console=serial0,115200 console=tty1 root=/dev/mmcblk0p2 rootfstype=ext4 rootwait quiet splash plymouth.ignore-serial-consoles init=/usr/lib/raspberrypi-sys-mods/firstboot cgroup_enable=memory pikube.test=5';
  t.is(makeTestCmdline(pi, pickMachine(undefined, 'arm64'), 60), 'root=/dev/mmcblk0p2 rootfstype=ext4 rootwait cgroup_enable=memory console=ttyAMA0 panic=-1 pikube.test=60');
  t.is(makeTestCmdline(pi, pickMachine('virt', 'arm64'), 20), 'root=/dev/vda2 rootfstype=ext4 rootwait cgroup_enable=memory console=ttyAMA0 panic=-1 pikube.test=20');
  t.is(makeTestCmdline('root=PARTUUID=c0ffee00-02 rootwait\n', pickMachine('virt', 'arm64'), 9), 'root=PARTUUID=c0ffee00-02 rootwait console=ttyAMA0 panic=-1 pikube.test=9');
});

test('machines: raspi3b for arm64, raspi2b for armhf, virt follows the image', (t) => {
  t.like(pickMachine(undefined, 'arm64'), { name: 'raspi3b', system: 'qemu-system-aarch64', kernels: ['kernel8.img'], powerOfTwo: true });
  t.like(pickMachine(undefined, 'armhf'), { name: 'raspi2b', system: 'qemu-system-arm', kernels: ['kernel7.img'] });
  t.like(pickMachine('virt', 'armhf'), { system: 'qemu-system-arm', drive: 'virtio', powerOfTwo: false });
  t.true(pickMachine('raspi3b', 'arm64').deviceTrees.includes('bcm2710-rpi-3-b.dtb'));
});

test('config.txt: kernel, device tree and initramfs from [all] and the model\'s own section only', (t) => {
  const text = 'arm_64bit=1\n[pi4]\nkernel=kernel_2712.img\ninitramfs initrd-pi4 followkernel\n[pi3]\ndevice_tree=my-pi3.dtb\n[all]\nauto_initramfs=1 # comment\n';
  t.deepEqual(parseBootConfig(text, ['pi3']), { autoInitramfs: true, deviceTree: 'my-pi3.dtb' });
  t.deepEqual(parseBootConfig('initramfs initramfs8 followkernel\n', ['pi3']), { autoInitramfs: false, initramfs: 'initramfs8' });
});

test('status lines: parsed in order, command output skipped, only provable failures fail the test', (t) => {
  const status = [
    '2026-01-01T00:00:00Z start        ok      pikube first boot',
    '2026-01-01T00:00:01Z containerd   ok      1 image tarballs imported',
    '    | REF TYPE DIGEST',
    '2026-01-01T00:00:02Z node         FAIL    pi did not register',
    '2026-01-01T00:00:03Z finish       FAIL    first boot finished with failures',
    '',
  ].join('\n');
  const steps = parseStatus(status);
  t.deepEqual(steps.map((s) => s.step), ['start', 'containerd', 'node', 'finish']);
  t.deepEqual(judgeSteps(steps), []);
  t.deepEqual(judgeSteps(parseStatus(status.replace('containerd   ok', 'containerd   FAIL'))), ['containerd failed: 1 image tarballs imported']);
  t.deepEqual(judgeSteps(steps.slice(0, 2)), ['the status file has no finish line: the first-boot script stopped part-way']);
});

test('console milestones: kernel, systemd (colours stripped), steps and power-off', (t) => {
  t.like(readMilestone('[    0.000000] Linux version 6.1.0-56-arm64 (debian-kernel@lists.debian.org)'), { kind: 'kernel', text: '6.1.0-56-arm64' });
  t.like(readMilestone('Welcome to \u001B[1mDebian GNU/Linux 12 (bookworm)\u001B[0m!\r'), { kind: 'systemd', text: 'Debian GNU/Linux 12 (bookworm)!' });
  t.like(readMilestone('[   66.2] firstboot.sh[415]: 2026-04-27T19:49:57Z node         FAIL    pi did not register'), { kind: 'step', step: 'node', result: 'FAIL', detail: 'pi did not register' });
  t.like(readMilestone('[   70.1] reboot: Power down'), { kind: 'poweroff' });
  t.is(readMilestone('[    1.0] random kernel line'), undefined);
});

test('boot-test refuses an image without the first-boot unit and an unknown machine, before booting anything', async (t) => {
  const { base } = await makeBase(t, { arch: 'arm64' });
  const plain = await runCli(['boot-test', base, '--machine', 'virt']);
  t.is(plain.exitCode, 1, plain.stderr);
  t.regex(plain.stderr, /has no pikube first-boot unit/);
  const machine = await runCli(['boot-test', base, '--machine', 'pi5']);
  t.is(machine.exitCode, 1);
  t.regex(machine.stderr, /unknown machine "pi5"/);
  const wrong = await runCli(['boot-test', base, '--machine', 'raspi2b']);
  t.is(wrong.exitCode, 1);
  t.regex(wrong.stderr, /holds arm64 binaries but raspi2b emulates armhf/);
});

test('build --boot-test with an unknown machine is refused before anything is built', async (t) => {
  const { dir } = await makeBase(t, { arch: 'arm64' });
  const result = await runCli(['build', '-c', join(dir, 'missing.yaml'), '-o', join(dir, 'out.img'), '--boot-test', 'pi5']);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /unknown machine "pi5"/);
  t.deepEqual((await readdir(dir)).filter((name) => name.startsWith('out.img') || name.startsWith('.out.img')), []);
});

const PROBE_OUTPUT = [
  '@@ ready', 'yes',
  '@@ hostname', 'pi-boot',
  '@@ user', 'picard',
  '@@ uid', '1000',
  '@@ groups', 'picard adm sudo users video',
  '@@ ipv4',
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global noprefixroute eth0\\       valid_lft forever preferred_lft forever',
  '@@ sshd', 'ssh.service active',
  '@@ kube', 'k3s.service activating',
  '@@ boot-mount-point', '/boot/firmware',
  '@@ boot-mount', '/dev/vda1 /boot/firmware vfat',
  '@@ firstboot', 'active success',
  '@@ status', '2026-01-01T00:00:03Z finish       FAIL    first boot finished with failures',
  '@@ end', '',
].join('\n');

test('login report: each fact parsed from its section, a cut-off answer is no report', (t) => {
  const report = parseLoginReport(PROBE_OUTPUT);
  t.like(report, {
    hostname: 'pi-boot', user: 'picard', uid: '1000', groups: ['picard', 'adm', 'sudo', 'users', 'video'], ready: true,
    sshd: { unit: 'ssh.service', state: 'active' }, kube: { unit: 'k3s.service', state: 'activating' },
    bootMount: { source: '/dev/vda1', target: '/boot/firmware', fstype: 'vfat' }, firstBoot: { state: 'active', result: 'success' },
  });
  t.deepEqual(report?.addresses, [{ interface: 'lo', address: '127.0.0.1/8' }, { interface: 'eth0', address: '10.0.2.15/24' }]);
  t.regex(report?.statusLine ?? '', /finish\s+FAIL/);
  t.is(parseLoginReport(PROBE_OUTPUT.split('@@ status')[0] ?? ''), undefined);
  t.is(parseLoginReport(PROBE_OUTPUT.replace('@@ boot-mount\n/dev/vda1 /boot/firmware vfat\n', '@@ boot-mount\n'))?.bootMount, undefined);
});

test('login judged against the build record: hostname, user, static address, sshd, boot mount, first boot over; the k3s unit is not judged', (t) => {
  const report = parseLoginReport(PROBE_OUTPUT);
  if (!report) return t.fail('no report');
  const expected = { user: 'picard', hostname: 'pi-boot', network: { interface: 'eth0', address: '10.0.2.15/24' } };
  t.deepEqual(judgeLogin(report, expected), []);
  t.deepEqual(judgeLogin({ ...report, kube: { unit: 'k3s.service', state: 'failed' } }, expected), []);
  t.deepEqual(judgeLogin(report, { ...expected, hostname: 'pi-1' }), ['the hostname is pi-boot, but the recipe asked for pi-1']);
  t.deepEqual(judgeLogin(report, { ...expected, network: { interface: 'eth0', address: '10.0.2.16/24' } }),
    ['eth0 does not have the static address 10.0.2.16/24 (IPv4 addresses: eth0 10.0.2.15/24)']);
  t.deepEqual(judgeLogin({ ...report, sshd: { unit: 'ssh.service', state: 'failed' }, ready: false, firstBoot: { state: 'activating', result: 'success' } }, expected),
    ['ssh.service is failed', 'first boot was not over when the login looked (pikube-firstboot.service activating)']);
  const { bootMount: _, ...unmounted } = report;
  t.deepEqual(judgeLogin(unmounted, expected), ['the boot partition is not mounted at /boot/firmware']);
});

// Runs overlay/boot-test/login-probe.sh as boot-test does (`sh -s WAIT`, the script on stdin) in a private mount
// namespace: /etc/pikube holds a first-boot env, /run is scratch with the release folder made after `openAfter`
// seconds (as the card's finish script does), and systemctl and findmnt are stand-ins on PATH.
async function runProbe(dir: string, wait: number, openAfter: number): Promise<{ exitCode: number; stdout: string; released: boolean }> {
  for (const sub of ['bin', 'etc-up', 'etc-work', 'boot']) await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, 'bin/systemctl'), `#!/bin/sh
case "$*" in
  'cat ssh.service') exit 0 ;;
  'is-active ssh.service') echo active ;;
  'is-active k3s.service') echo activating ;;
  *'-p ActiveState'*) echo active ;;
  *'-p Result'*) echo success ;;
esac
`, { mode: 0o755 });
  await writeFile(join(dir, 'bin/findmnt'), `#!/bin/sh\necho "/dev/vda1 $5 vfat"\n`, { mode: 0o755 });
  await writeFile(join(dir, 'boot/pikube-status.txt'), '2026-01-01T00:00:01Z start        ok\n2026-01-01T00:00:03Z finish       ok      first boot finished\n');
  await writeFile(join(dir, 'firstboot.env'), `PIKUBE_SERVICE=k3s.service\nPIKUBE_BOOT=${dir}/boot\nPIKUBE_BUILDS=""\n`);
  const inside = `set -e
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc
mount -t tmpfs tmpfs /run
mkdir -p /etc/pikube
cp ${dir}/firstboot.env /etc/pikube/firstboot.env
(sleep ${openAfter}; mkdir -m 1777 /run/pikube-boot-test) &
set +e
PATH=${dir}/bin:$PATH sh -s ${wait} <${locateOverlayScript('loginProbe')}
rc=$?
[ -e /run/pikube-boot-test/release ] && touch ${dir}/released
wait
exit $rc`;
  const run = await execa('unshare', ['--mount', '--fork', 'sh', '-c', inside], { reject: false, timeout: 30_000 });
  return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), released: await stat(join(dir, 'released')).then(() => true, () => false) };
}

test('the login probe waits for first boot to be over, prints every section the parser reads and releases the machine', async (t) => {
  const run = await runProbe(await makeTempDir(t), 20, 1);
  t.is(run.exitCode, 0, run.stdout);
  const report = parseLoginReport(run.stdout);
  t.like(report, { ready: true, uid: '0', user: 'root', sshd: { unit: 'ssh.service', state: 'active' }, kube: { unit: 'k3s.service', state: 'activating' }, firstBoot: { state: 'active', result: 'success' } });
  t.is(report?.bootMount?.fstype, 'vfat');
  t.regex(report?.bootMountPoint ?? '', /\/boot$/, 'the boot folder comes from the card\'s first-boot env');
  t.regex(report?.statusLine ?? '', /finish\s+ok\s+first boot finished/);
  t.true(report?.addresses.some((a) => a.interface === 'lo') ?? false, String(run.stdout));
  t.true(run.released, 'the machine may power off');
  const late = await runProbe(await makeTempDir(t), 0, 3);
  t.like(parseLoginReport(late.stdout), { ready: false });
  t.false(late.released, 'nothing to release before first boot is over');
  t.regex(await readFile(locateOverlayScript('loginProbe'), 'utf8'), /^RELEASE_DIR=\/run\/pikube-boot-test$/m);
});

test('the network: none without a login; with one, a restricted user-mode net forwarding only 127.0.0.1:PORT to port 22; none on the Pi models', (t) => {
  const virt = pickMachine('virt', 'arm64');
  t.deepEqual(makeNetworkArgs(virt, undefined), ['-nic', 'none']);
  t.deepEqual(makeNetworkArgs(virt, { port: 40022 }),
    ['-netdev', 'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22', '-device', 'virtio-net-device,netdev=net0']);
  t.deepEqual(makeNetworkArgs(virt, { port: 40022, network: { address: '192.168.1.50/24', gateway: '192.168.1.1' } })[1],
    'user,id=net0,restrict=on,net=192.168.1.0/24,host=192.168.1.1,dns=192.168.1.3,dhcpstart=192.168.1.15,hostfwd=tcp:127.0.0.1:40022-192.168.1.50:22');
  t.is(makeNetworkArgs(virt, { port: 40022, network: { address: '10.1.0.20/16', gateway: '10.1.0.3' } })[1],
    'user,id=net0,restrict=on,net=10.1.0.0/16,host=10.1.0.3,dns=10.1.0.4,dhcpstart=10.1.0.100,hostfwd=tcp:127.0.0.1:40022-10.1.0.20:22',
    'QEMU\'s DNS and DHCP addresses move out of the way of the card\'s address and gateway');
  t.deepEqual(makeNetworkArgs(pickMachine('raspi3b', 'arm64'), { port: 40022 }), ['-nic', 'none']);
  t.false(pickMachine('virt', 'arm64').args.includes('-nic'), 'the machine arguments leave the network to makeNetworkArgs');
  t.is(makeTestCmdline('root=/dev/vda2 pikube.ssh=5', pickMachine('virt', 'arm64'), 9, 120), 'root=/dev/vda2 console=ttyAMA0 panic=-1 pikube.test=9 pikube.ssh=120');
});

test('ssh arguments: batch mode, a new host key into the given known_hosts only, a connect timeout, the key alone when one is named', (t) => {
  const args = makeSshArgs({ user: 'picard', port: 40022, knownHosts: '/tmp/kh', identity: '/tmp/key', connectTimeoutSeconds: 20 });
  t.deepEqual(args.slice(0, 4), ['-F', 'none', '-p', '40022']);
  for (const option of ['BatchMode=yes', 'StrictHostKeyChecking=accept-new', 'UserKnownHostsFile=/tmp/kh', 'GlobalKnownHostsFile=/dev/null', 'ConnectTimeout=20', 'IdentitiesOnly=yes']) {
    t.true(args.includes(option), option);
  }
  t.deepEqual(args.slice(args.indexOf('-i'), args.indexOf('-i') + 4), ['-i', '/tmp/key', '-o', 'IdentitiesOnly=yes']);
  t.deepEqual(args.slice(-4), ['-l', 'picard', '127.0.0.1', 'sh -s']);
  t.is(makeSshArgs({ user: 'picard', port: 40022, knownHosts: '/tmp/kh', connectTimeoutSeconds: 20 }, ['30']).at(-1), 'sh -s 30', 'the probe\'s wait is its $1');
  t.throws(() => makeSshArgs({ user: 'picard', port: 40022, knownHosts: '/tmp/kh', connectTimeoutSeconds: 20 }, ['30; reboot']), { message: /not a plain word/ });
  const own = makeSshArgs({ user: 'picard', port: 40022, knownHosts: '/tmp/kh', connectTimeoutSeconds: 20 });
  t.false(own.includes('-i'));
  t.false(own.includes('IdentitiesOnly=yes'));
});

test('login plan: auto logs in only with a user and a key on a machine with a network, --ssh refuses what cannot work', (t) => {
  const virt = pickMachine('virt', 'arm64');
  const raspi = pickMachine('raspi3b', 'arm64');
  const identity = { user: 'picard', hostname: 'pi-boot', sshAuthorizedKeys: 1, network: { interface: 'eth0', address: '192.168.1.50/24', gateway: '192.168.1.1' } };
  t.deepEqual(planLogin('auto', identity, virt, 'card.img'), {
    login: true, expected: { user: 'picard', hostname: 'pi-boot', network: { interface: 'eth0', address: '192.168.1.50/24' } },
    guestNetwork: { address: '192.168.1.50/24', gateway: '192.168.1.1' },
  });
  t.deepEqual(planLogin('off', identity, virt, 'card.img'), { login: false });
  t.deepEqual(planLogin('auto', { sshAuthorizedKeys: 0 }, virt, 'card.img'), { login: false });
  t.deepEqual(planLogin('auto', undefined, virt, 'card.img'), { login: false });
  t.regex((planLogin('auto', identity, raspi, 'card.img') as { reason?: string }).reason ?? '', /raspi3b has no network in QEMU/);
  t.throws(() => planLogin('on', { user: 'picard', sshAuthorizedKeys: 0 }, virt, 'card.img'), { message: /card\.img was not built with a user and an SSH key/ });
  t.throws(() => planLogin('on', identity, raspi, 'card.img'), { message: /cannot log in to raspi3b/ });
});

test('login attempts: a port nobody answers is retried until the deadline and reported with ssh\'s own words; a stopped machine ends them', async (t) => {
  const dir = await makeTempDir(t, 'pikube-login-');
  const port = await pickFreePort();
  const started = performance.now();
  const outcome = await logInWhileBooted({ user: 'picard', port, knownHosts: join(dir, 'known_hosts'), deadline: started + 4000, waitSeconds: 5, stopped: () => false });
  t.true(outcome.attempts >= 2, `${outcome.attempts} attempts`);
  t.is(outcome.report, undefined);
  t.false(outcome.refused);
  t.regex(outcome.error ?? '', /Connection refused/);
  const stopped = await logInWhileBooted({ user: 'picard', port, knownHosts: join(dir, 'known_hosts'), deadline: performance.now() + 60_000, waitSeconds: 5, stopped: () => true });
  t.is(stopped.attempts, 0);
});

test('boot-test --ssh-key refuses a missing key and a public key before booting anything', async (t) => {
  const { base, dir } = await makeBase(t, { arch: 'arm64' });
  const missing = await runCli(['boot-test', base, '--machine', 'virt', '--ssh-key', join(dir, 'nope')]);
  t.is(missing.exitCode, 1);
  t.regex(missing.stderr, /cannot read the SSH key .*nope: ENOENT/);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  const pub = await runCli(['boot-test', base, '--machine', 'virt', '--ssh-key', join(dir, 'key.pub')]);
  t.is(pub.exitCode, 1);
  t.regex(pub.stderr, /key\.pub is not a private key/);
});
