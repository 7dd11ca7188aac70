import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { readLayout } from '../../src/image/read-facts.ts';
import { runCli } from '../helpers/cli.ts';
import { readBootFile, readRootFile, statInImage } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { makeTempDir } from '../helpers/temp.ts';
import { startFixture } from '../registry/helpers/fixture.ts';
import { ensureDebianRoot, makeDebianPiImage } from './helpers/debian-pi.ts';

const STEP = /^\S+Z (\S+)\s+(ok|FAIL|warn|skip)\s+(.*)$/;

function steps(status: string): Array<{ step: string; result: string; detail: string }> {
  return status.split('\n').flatMap((line) => {
    const match = STEP.exec(line);
    return match ? [{ step: match[1] ?? '', result: match[2] ?? '', detail: match[3] ?? '' }] : [];
  });
}

function lines(text: string | undefined): string[] {
  return (text ?? '').split('\n').filter((line) => line.trim());
}

// From Debian's real arm64 packages (kernel, systemd, containerd, runc, cloud-init, NetworkManager, openssh-server,
// avahi, timesyncd) to a pikube k3s card that boots in QEMU: boot-test logs in over SSH as the recipe's user with
// the recipe's key and finds the recipe's hostname and static address; first boot runs once, in order, imports the
// pulled image into the real containerd, and reports the stand-in k3s as failed; the card boots again on the
// emulated Pi 3 without rerunning first boot; a broken first-boot script fails the boot test and keeps the console log.
// debootstrap, binfmt registration and ownership-preserving tar need root; elsewhere the test is reported as skipped.
const asRoot = process.getuid?.() === 0 ? test : test.skip;

asRoot('a Debian arm64 Pi card built by pikube boots in QEMU and its first boot tells the truth', async (t) => {
  t.timeout(40 * 60 * 1000);
  const root = await ensureDebianRoot();
  t.log(root.made ? `made the Debian root in ${root.seconds.toFixed(0)} s` : 'the Debian root came from the cache');
  const dir = await makeTempDir(t, 'pikube-boot-test-');
  const base = join(dir, 'base.img');
  await makeDebianPiImage(root.tarball, join(dir, 'work'), base);

  const registry = await startFixture();
  t.teardown(() => registry.stop());
  const mirror = await startMirror(t);
  const release = serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64');
  const image = `${registry.open.host}/test/app:1`;
  const key = join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pikube boot test', '-f', key]);
  const publicKey = (await readFile(`${key}.pub`, 'utf8')).trim();
  // A home network's static address: boot-test shapes QEMU's user network around it, and QEMU's DHCP would hand out
  // 192.168.1.15, so finding .50 on eth0 proves the static configuration was applied.
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, hostname: 'pi-boot', user: { name: 'picard', sshAuthorizedKeys: [publicKey] },
    network: { address: '192.168.1.50/24', gateway: '192.168.1.1' }, kubernetes: {}, images: [image],
  });
  const sshLink = '/etc/systemd/system/multi-user.target.wants/ssh.service';
  t.is((await statInImage(base, [sshLink])).get(sshLink), undefined, 'the base ships sshd disabled, as pi-gen does');
  const built = join(dir, 'built.img');
  const build = await runCli(['build', '-c', recipe, '-o', built], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(build.exitCode, 0, build.stderr);
  const builtSha = (await execa('sha256sum', [built])).stdout.split(' ')[0];

  const first = join(dir, 'first.img');
  const bootStarted = performance.now();
  const boot = await runCli(['boot-test', built, '--machine', 'virt', '--ssh-key', key, '--node-wait', '15', '--timeout', '900', '--keep-copy', first]);
  t.log(boot.stderr);
  t.log(`first boot with the login: ${((performance.now() - bootStarted) / 1000).toFixed(0)} s`);
  t.is(boot.exitCode, 0, boot.stderr);
  t.regex(boot.stderr, /login over SSH as picard on 127\.0\.0\.1:\d+ \(\d+ s into the boot/);
  t.regex(boot.stderr, /^\s+hostname\s+pi-boot$/m, 'cloud-init set the recipe\'s hostname');
  t.regex(boot.stderr, /^\s+user\s+picard \(uid 1000\), groups picard( \S+)*$/m, 'the recipe\'s user, logged in with the recipe\'s key');
  for (const group of ['adm', 'sudo', 'users', 'video']) t.regex(boot.stderr, new RegExp(`^\\s+user\\s+picard .*groups .*\\b${group}\\b`, 'm'), group);
  t.regex(boot.stderr, /^\s+ipv4\s+eth0 192\.168\.1\.50\/24$/m, 'the static address and nothing else on eth0');
  t.regex(boot.stderr, /^\s+sshd\s+ssh\.service active$/m, 'the card\'s cloud-init runcmd turned sshd on');
  t.regex(boot.stderr, /^\s+kubernetes\s+k3s\.service (activating|failed|inactive)\s+\[not counted under emulation/m);
  t.regex(boot.stderr, /^\s+boot\s+\/dev\/vda1 on \/boot\/firmware \(vfat\)$/m);
  t.regex(boot.stderr, /^\s+first boot\s+(active|failed) \(\S+\), status: finish FAIL/m);
  t.regex(boot.stderr, /kernel up \(6\.1\./);
  t.regex(boot.stderr, /systemd up/);
  t.regex(boot.stderr, /first boot: architecture ok aarch64/);
  t.regex(boot.stderr, /power-off/);
  t.regex(boot.stderr, /node\s+FAIL .*not counted under emulation/);
  t.is((await execa('sha256sum', [built])).stdout.split(' ')[0], builtSha, 'boot-test never writes the image it was given');
  t.is((await stat(`${built}.boot-test.log`).catch(() => undefined)), undefined, 'no console log is kept on success');

  const status = (await readBootFile(first, '/pikube-status.txt')) ?? '';
  t.is(boot.stdout.trimEnd(), status.trimEnd(), 'stdout is the status file');
  const recorded = steps(status);
  t.deepEqual(recorded.map((s) => s.step), ['start', 'architecture', 'cgroups', 'swap', 'images', 'containerd', 'node', 'finish'], status);
  t.regex(recorded[0]?.detail ?? '', /TEST MODE/);
  t.like(recorded.find((s) => s.step === 'architecture'), { result: 'ok' });
  t.like(recorded.find((s) => s.step === 'cgroups'), { result: 'ok', detail: 'cgroup v2 with the memory controller' });
  t.like(recorded.find((s) => s.step === 'containerd'), { result: 'ok', detail: '1 image tarballs imported into the system containerd' });
  t.regex(status, new RegExp(`\\| ${image.replace(/[.:/]/g, '\\$&')}\\s+application/vnd\\.\\S+\\s+sha256:[0-9a-f]{64}`), 'ctr -n k8s.io images ls lists the pulled image');
  const node = recorded.find((s) => s.step === 'node');
  t.is(node?.result, 'FAIL', 'the stand-in k3s cannot run: the node step must say so');
  t.regex(node?.detail ?? '', /did not register within 15 s, k3s.service is (activating|failed)/);
  t.like(recorded.find((s) => s.step === 'finish'), { result: 'FAIL' });
  t.is(lines((await readRootFile(first, '/var/lib/pikube/firstboot.runs', dir))?.toString()).length, 1);
  t.truthy(await readRootFile(first, '/var/lib/pikube/firstboot.done', dir));
  const journal = (await readRootFile(first, '/var/lib/pikube/boot-test-journal.txt', dir))?.toString() ?? '';
  t.regex(journal, /pikube-firstboot/);
  t.regex(journal, /k3s/);
  t.regex(await readBootFile(first, '/cmdline.txt') ?? '', /pikube\.test=15/, 'the flag is in the copy');
  t.notRegex(await readBootFile(built, '/cmdline.txt') ?? '', /pikube\.test/, 'and never in the image');
  t.is(release.binary.length > 0, true);

  const second = join(dir, 'second.img');
  const again = await runCli(['boot-test', first, '--timeout', '900', '--keep-copy', second]);
  t.log(again.stderr);
  t.is(again.exitCode, 0, again.stderr);
  t.regex(again.stderr, /booting on raspi3b/);
  t.regex(again.stderr, /login over SSH skipped: raspi3b has no network in QEMU/);
  t.regex(again.stderr, /first boot did not run on this boot/);
  t.notRegex(again.stderr, /first boot: start/);
  t.is(lines((await readRootFile(second, '/var/lib/pikube/firstboot.runs', dir))?.toString()).length, 1, 'a second boot does not rerun first boot');
  t.is(lines((await readRootFile(second, '/var/lib/pikube/boot-test.boots', dir))?.toString()).length, 2, 'the card really booted twice');
  t.is(await readBootFile(second, '/pikube-status.txt'), status, 'the first boot\'s status stays');

  const broken = join(dir, 'broken.img');
  await copyFile(built, broken);
  const script = join(dir, 'broken.sh');
  await writeFile(script, '#!/bin/bash\nset -e\nif true; then\n  echo "never closed"\n', { mode: 0o755 });
  const layout = await readLayout(broken);
  await execa('e2cp', ['-P', '755', '-O', '0', '-G', '0', script, `${broken}?offset=${layout.root.start * layout.table.sectorSize}:/usr/local/lib/pikube/firstboot.sh`]);
  const failed = await runCli(['boot-test', broken, '--machine', 'virt', '--ssh-key', key, '--timeout', '900']);
  t.log(failed.stderr);
  t.is(failed.exitCode, 1, failed.stderr);
  t.regex(failed.stderr, /boot test failed on virt/);
  t.regex(failed.stderr, /left no pikube-status\.txt/);
  t.regex(failed.stderr, /^\s+first boot\s+failed \(exit-code\)$/m, 'the login still works and sees first boot failed');
  t.regex(failed.stderr, new RegExp(`console log is kept at ${`${broken}.boot-test.log`.replace(/[.]/g, '\\.')}`));
  const kept = await readFile(`${broken}.boot-test.log`, 'utf8');
  t.regex(kept, /Linux version/);
  t.regex(kept, /pikube-boot-test: powering off/, 'the boot-test unit powers off even when first boot fails');
});
