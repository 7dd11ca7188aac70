import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { locateOverlayScript, readOverlayScripts } from '../../src/acquire/overlay-scripts.ts';
import { BOOT_TEST_UNIT_PATH, FIRSTBOOT_RECORDS, FIRSTBOOT_UNIT_PATH, LOGIN_RELEASE_DIR, planFirstBoot } from '../../src/kube/firstboot.ts';
import { appendKernelFlags, CGROUP_FLAGS } from '../../src/plan/kernel-cmdline.ts';
import { makeTempDir } from '../helpers/temp.ts';

const FIRSTBOOT_SCRIPT = locateOverlayScript('firstBoot');

test('kernel flags are appended once to the one cmdline line, and not again on a second build', (t) => {
  const base = 'console=serial0,115200 console=tty1 root=PARTUUID=5452574f-02 rootfstype=ext4 cgroup_enable=cpuset rootwait';
  const once = appendKernelFlags(base, CGROUP_FLAGS);
  t.is(once, `${base} cgroup_enable=memory cgroup_memory=1`);
  t.is(appendKernelFlags(once, CGROUP_FLAGS), once);
  t.false(once.includes('\n'));
});

test('the boot-test unit is inert without pikube.test and runs the finish script placed from overlay/', async (t) => {
  const scripts = await readOverlayScripts();
  const entries = planFirstBoot({ profile: 'k3s', role: 'server', node: 'pi', architecture: 'arm64', bootMount: '/boot/firmware', imageDir: '/var/lib/rancher/k3s/agent/images', builds: [], scripts, after: 'k3s.service' });
  const textOf = (path: string) => {
    const entry = entries.find((e) => e.path === path);
    return entry?.type === 'file' && entry.content.kind === 'text' ? entry.content.text : '';
  };
  t.regex(textOf(BOOT_TEST_UNIT_PATH), /^ConditionKernelCommandLine=pikube\.test$/m);
  t.regex(textOf(BOOT_TEST_UNIT_PATH), /^After=sysinit\.target basic\.target pikube-firstboot\.service$/m);
  // Neither unit holds up multi-user.target (Debian's cloud-final, which turns sshd on, waits for it): no default
  // dependencies, the service defaults written out.
  for (const path of [BOOT_TEST_UNIT_PATH, FIRSTBOOT_UNIT_PATH]) {
    for (const line of ['DefaultDependencies=no', 'Requires=sysinit.target', 'Conflicts=shutdown.target', 'Before=shutdown.target']) {
      t.true(textOf(path).split('\n').includes(line), `${path}: ${line}`);
    }
    t.regex(textOf(path), /^After=sysinit\.target basic\.target /m, path);
  }
  t.regex(textOf(BOOT_TEST_UNIT_PATH), /^ExecStart=\/usr\/local\/lib\/pikube\/boot-test-finish\.sh$/m);
  t.like(entries.find((e) => e.path === '/usr/local/lib/pikube/boot-test-finish.sh'), { mode: 0o755, content: { kind: 'host', path: scripts.bootTestFinish.hostPath, sha256: scripts.bootTestFinish.sha256 } });
  t.like(entries.find((e) => e.path === '/usr/local/lib/pikube/firstboot.sh'), { mode: 0o755, content: { kind: 'host', path: scripts.firstBoot.hostPath, sha256: scripts.firstBoot.sha256 } });
  t.true(entries.some((e) => e.type === 'symlink' && e.path === '/etc/systemd/system/multi-user.target.wants/pikube-boot-test.service'));
});

// Runs the real boot-test finish script in a private mount namespace: /var/lib and /run are scratch, /proc/cmdline
// is `cmdline`, and systemctl and journalctl are stand-ins on PATH (poweroff is recorded, not done). With `release`
// a stand-in login leaves the release file once the folder appears, as boot-test's SSH probe does.
async function runFinish(dir: string, cmdline: string, release: boolean): Promise<{ exitCode: number; stdout: string; boots: string; journal: string; systemctl: string; releaseMode: string }> {
  const stub = (body: string) => `#!/bin/sh\n${body}\n`;
  const files: Record<string, string> = {
    'bin/systemctl': stub(`echo "$*" >>${dir}/systemctl.calls\ncase "$*" in *'show -p Result'*) echo success ;; esac`),
    'bin/journalctl': stub(`echo "journal asked for: $*"`),
    cmdline: `${cmdline}\n`,
  };
  for (const sub of ['bin', 'lib-up', 'lib-work']) await mkdir(join(dir, sub), { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body, { mode: name.startsWith('bin/') ? 0o755 : 0o644 });
  const login = release ? `(while [ ! -d ${LOGIN_RELEASE_DIR} ]; do sleep 0.1; done; stat -c %a ${LOGIN_RELEASE_DIR} >${dir}/release-mode; touch ${LOGIN_RELEASE_DIR}/release) &` : '';
  const inside = `set -e
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/var/lib,upperdir=${dir}/lib-up,workdir=${dir}/lib-work /var/lib
mount -t tmpfs tmpfs /run
mount --bind ${dir}/cmdline /proc/cmdline
${login}
set +e
PATH=${dir}/bin:$PATH ${locateOverlayScript('bootTestFinish')}
rc=$?
cp ${FIRSTBOOT_RECORDS.boots} ${dir}/boots 2>/dev/null
cp ${FIRSTBOOT_RECORDS.journal} ${dir}/journal 2>/dev/null
wait
exit $rc`;
  const run = await execa('unshare', ['--mount', '--fork', 'sh', '-c', inside], { reject: false, timeout: 30_000 });
  const read = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');
  return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), boots: await read('boots'), journal: await read('journal'), systemctl: await read('systemctl.calls'), releaseMode: await read('release-mode') };
}

test('the boot-test finish script records the boot and the journal where boot-test reads them, then powers off', async (t) => {
  const run = await runFinish(await makeTempDir(t), 'console=ttyAMA0 pikube.test', false);
  t.is(run.exitCode, 0, run.stdout);
  t.regex(run.boots, /^[0-9a-f-]{36} firstboot=success\n$/);
  t.regex(run.journal, /^journal asked for: -b .*-u pikube-firstboot\.service .*-u k3s-agent\.service -u kubelet\.service/);
  t.regex(run.systemctl, /--no-block poweroff\n$/);
  t.notRegex(run.stdout, /waiting/, 'no SSH wait without pikube.ssh');
});

test('with pikube.ssh=SECONDS the finish script opens the release folder to the login and powers off once it is released', async (t) => {
  const run = await runFinish(await makeTempDir(t), 'console=ttyAMA0 pikube.test pikube.ssh=20', true);
  t.is(run.exitCode, 0, run.stdout);
  t.regex(run.stdout, /first boot is over, waiting up to 20 s for the SSH login\npikube-boot-test: powering off/);
  t.is(run.releaseMode.trim(), '1777', 'any login user may leave the release file');
  t.regex(run.systemctl, /--no-block poweroff\n$/);
});

// Runs the real first-boot script as a static cluster's agent in a private mount namespace: /etc and /var/lib are
// overlays whose changes land in `dir`, /usr/local/bin holds stand-ins for kubectl and ctr, and systemctl, modprobe,
// sysctl, swapoff and uname are stand-ins on PATH. The stand-in kubectl refuses /readyz `refusals` times first.
async function runStaticAgent(dir: string, refusals: number, timeout: number): Promise<{ exitCode: number; status: string; hosts: string; systemctl: string }> {
  const stub = (body: string) => `#!/bin/sh\n${body}\n`;
  const files: Record<string, string> = {
    'local-bin/kubectl': stub(`case "$*" in
  *'get --raw /readyz'*)
    n=$(cat ${dir}/refusals)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) >${dir}/refusals; echo 'The connection to the server pi-1.local:6443 was refused' >&2; exit 1; fi ;;
  *'get node pi-2'*) [ -s ${dir}/kubelet.conf ] ;;
  *) exit 1 ;;
esac`),
    'local-bin/ctr': stub(`case "$*" in
  version) echo '  Version: v2.1.5' ;;
  *'images ls -q'*) echo registry.k8s.io/pause:3.10 ;;
esac`),
    'bin/systemctl': stub(`echo "$*" >>${dir}/systemctl.calls
[ "$*" = 'start kubelet.service' ] && echo 'written by the kubelet' >${dir}/kubelet.conf
exit 0`),
    'bin/modprobe': stub('exit 0'), 'bin/sysctl': stub('echo 1'), 'bin/swapoff': stub('exit 0'), 'bin/uname': stub('echo aarch64'),
    'images/pikube-pause.tar': 'tarball',
    refusals: `${refusals}\n`,
    'firstboot.env': [
      'PIKUBE_PROFILE=static', 'PIKUBE_ROLE=agent', 'PIKUBE_NODE=pi-2', 'PIKUBE_SERVICE=containerd.service', 'PIKUBE_ARCH=arm64', `PIKUBE_BOOT=${dir}/boot`,
      `PIKUBE_IMAGE_DIR=${dir}/images`, 'PIKUBE_BUILDS=""', 'PIKUBE_UNIT=kubelet', `PIKUBE_KUBECONFIG=${dir}/kubelet.conf`, `PIKUBE_BOOTSTRAP_KUBECONFIG=${dir}/bootstrap.conf`,
      'PIKUBE_SERVER=https://pi-1.local:6443', 'PIKUBE_PAUSE_IMAGE=registry.k8s.io/pause:3.10', `PIKUBE_IMAGES_IMPORTED=${dir}/imported`, `PIKUBE_READY_TIMEOUT=${timeout}`, '',
    ].join('\n'),
  };
  for (const sub of ['local-bin', 'bin', 'images', 'boot', 'etc-up', 'etc-work', 'lib-up', 'lib-work']) await mkdir(join(dir, sub), { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body, { mode: name.includes('bin/') ? 0o755 : 0o644 });
  const inside = `set -e
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc
mount -t overlay overlay -o lowerdir=/var/lib,upperdir=${dir}/lib-up,workdir=${dir}/lib-work /var/lib
mount -t tmpfs tmpfs /usr/local/bin
cp ${dir}/local-bin/* /usr/local/bin/
mkdir -p /etc/pikube
cp ${dir}/firstboot.env /etc/pikube/firstboot.env
echo '192.0.2.7 pi-1.local' >>/etc/hosts
set +e
PATH=${dir}/bin:$PATH bash ${FIRSTBOOT_SCRIPT}
rc=$?
cp /etc/hosts ${dir}/hosts.after
exit $rc`;
  const run = await execa('unshare', ['--mount', '--fork', 'sh', '-c', inside], { reject: false });
  const read = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');
  return { exitCode: run.exitCode ?? -1, status: await read('boot/pikube-status.txt'), hosts: await read('hosts.after'), systemctl: await read('systemctl.calls') };
}

test('a static agent\'s first boot logs each try until the server answers, pins its mDNS address and waits for the kubelet to join', async (t) => {
  const run = await runStaticAgent(await makeTempDir(t), 1, 60);
  t.is(run.exitCode, 0, run.status);
  t.regex(run.status, /server\s+ok\s+pi-1\.local is 192\.0\.2\.7 \(pinned in \/etc\/hosts\)/);
  t.regex(run.status, /server\s+wait\s+try 1: https:\/\/pi-1\.local:6443: The connection to the server pi-1\.local:6443 was refused\n/);
  t.regex(run.status, /server\s+ok\s+https:\/\/pi-1\.local:6443 answers and accepts the bootstrap token \(try 2\)/);
  t.regex(run.status, /node\s+ok\s+pi-2 joined https:\/\/pi-1\.local:6443/);
  t.regex(run.status, /finish\s+ok/);
  t.is(run.hosts.split('\n').filter((line) => line.endsWith(' pi-1.local')).join('|'), '192.0.2.7 pi-1.local', 'one pinned line');
  t.regex(run.systemctl, /^start containerd\.service\nstart kubelet\.service\n$/);
});

test('a static agent whose server never answers is marked failed after the timeout, its kubelet left running', async (t) => {
  const run = await runStaticAgent(await makeTempDir(t), 99, 12);
  t.is(run.exitCode, 1);
  t.deepEqual(run.status.match(/server\s+wait\s+try \d+/g)?.map((line) => line.replace(/\s+/g, ' ')), ['server wait try 1', 'server wait try 2', 'server wait try 3'], 'tries after 0, 5 and 15 s');
  t.regex(run.status, /server\s+FAIL\s+https:\/\/pi-1\.local:6443 did not answer within 12 s/);
  t.notRegex(run.status, /node\s+ok/);
  t.false(run.systemctl.includes('stop'), 'the kubelet keeps trying');
});

// Runs the real first-boot script as a k3s agent on a CPU that `uname -m` names, in a private mount namespace
// (as runStaticAgent), with /etc/hosts holding `hostsLine` as pin-server.sh would have left it.
async function runK3sAgent(dir: string, machine: string, hostsLine: string): Promise<{ exitCode: number; status: string }> {
  const stub = (body: string) => `#!/bin/sh\n${body}\n`;
  const files: Record<string, string> = {
    'bin/systemctl': stub('exit 0'), 'bin/uname': stub(`echo ${machine}`),
    'images/k3s-airgap-images-arm.tar.zst': 'images',
    'firstboot.env': [
      'PIKUBE_PROFILE=k3s', 'PIKUBE_ROLE=agent', 'PIKUBE_NODE=pi-2', 'PIKUBE_SERVICE=k3s-agent.service', 'PIKUBE_ARCH=armhf', `PIKUBE_BOOT=${dir}/boot`,
      `PIKUBE_IMAGE_DIR=${dir}/images`, 'PIKUBE_BUILDS=""', 'PIKUBE_SERVER_HOST=pi-1.local', 'PIKUBE_READY_TIMEOUT=5', '',
    ].join('\n'),
  };
  for (const sub of ['bin', 'images', 'boot', 'etc-up', 'etc-work', 'lib-up', 'lib-work']) await mkdir(join(dir, sub), { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body, { mode: name.includes('bin/') ? 0o755 : 0o644 });
  const inside = `set -e
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc
mount -t overlay overlay -o lowerdir=/var/lib,upperdir=${dir}/lib-up,workdir=${dir}/lib-work /var/lib
mkdir -p /etc/pikube
cp ${dir}/firstboot.env /etc/pikube/firstboot.env
echo '${hostsLine}' >>/etc/hosts
set +e
PATH=${dir}/bin:$PATH bash ${FIRSTBOOT_SCRIPT}`;
  const run = await execa('unshare', ['--mount', '--fork', 'sh', '-c', inside], { reject: false });
  return { exitCode: run.exitCode ?? -1, status: await readFile(join(dir, 'boot/pikube-status.txt'), 'utf8').catch(() => '') };
}

test('first boot reports FAIL on an ARMv6 CPU (Pi Zero/1) and ok on ARMv7, and reports the pinned server address', async (t) => {
  const zero = await runK3sAgent(await makeTempDir(t), 'armv6l', '192.0.2.7 pi-1.local # pikube k3s server');
  t.is(zero.exitCode, 1, zero.status);
  t.regex(zero.status, /architecture FAIL\s+this CPU is ARMv6 \(Pi Zero, Zero W or 1\): k3s's armhf build needs ARMv7/);
  t.regex(zero.status, /finish\s+FAIL/);
  const pi3 = await runK3sAgent(await makeTempDir(t), 'armv7l', '192.0.2.7 pi-1.local # pikube k3s server');
  t.regex(pi3.status, /architecture ok\s+armv7l for armhf binaries/);
  t.regex(pi3.status, /server\s+ok\s+pi-1\.local is 192\.0\.2\.7 \(pinned in \/etc\/hosts before k3s started\)/);
  t.is(pi3.exitCode, 0, pi3.status);
  const unpinned = await runK3sAgent(await makeTempDir(t), 'armv7l', '# nothing pinned');
  t.regex(unpinned.status, /server\s+FAIL\s+pi-1\.local did not answer over mDNS, so k3s cannot reach it/);
  t.is(unpinned.exitCode, 1);
});
