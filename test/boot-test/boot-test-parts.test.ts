import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parseBootConfig } from '../../src/boot-test/boot-config.ts';
import { readMilestone } from '../../src/boot-test/console-timeline.ts';
import { pickMachine } from '../../src/boot-test/machines.ts';
import { judgeSteps, parseStatus } from '../../src/boot-test/status-report.ts';
import { makeTestCmdline } from '../../src/boot-test/test-cmdline.ts';
import { runCli } from '../helpers/cli.ts';
import { makeBase } from '../helpers/image.ts';

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
