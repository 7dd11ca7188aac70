import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { locateOverlayScript } from '../../src/acquire/overlay-scripts.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readBootFile, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe, TEST_SSH_KEY } from '../helpers/recipe.ts';
import { startFixture } from '../registry/helpers/fixture.ts';

const KEY = TEST_SSH_KEY;
const TLS = '/var/lib/rancher/k3s/server/tls';

test('a Hypriot-shaped armhf base becomes a k3s server card with a trusted kubeconfig', async (t) => {
  const registry = await startFixture();
  t.teardown(() => registry.stop());
  const { dir } = await makeBase(t, { arch: 'armhf' });
  const mirror = await startMirror(t);
  const release = serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const image = `${registry.open.host}/test/app:1`;
  await import('node:fs/promises').then(async (fs) => { await fs.mkdir(join(dir, 'app')); await fs.writeFile(join(dir, 'app/Dockerfile'), 'FROM scratch\n'); });
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, hostname: 'pi-k3s',
    user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv', sshAuthorizedKeys: [KEY] },
    wifi: { ssid: 'home', psk: 'long-enough-psk', country: 'GB' },
    network: { address: '192.168.1.50/24', gateway: '192.168.1.1', dns: ['192.168.1.1'] },
    kubernetes: { distribution: 'k3s', disable: ['traefik'], build: [{ name: 'myapp:1', context: 'app' }] },
    images: [image],
  });
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const output = join(dir, 'k3s.img');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env });
  t.is(result.exitCode, 0, result.stderr);

  const paths = ['/usr/local/bin/k3s', '/usr/local/bin/kubectl', '/usr/local/bin/crictl', '/usr/local/bin/ctr', '/etc/rancher/k3s/config.yaml',
    '/etc/systemd/system/k3s.service', '/etc/systemd/system/k3s.service.env', '/etc/systemd/system/multi-user.target.wants/k3s.service',
    '/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm.tar.zst', `${TLS}/server-ca.crt`, `${TLS}/server-ca.key`, `${TLS}/client-ca.key`,
    `${TLS}/etcd/peer-ca.key`, `${TLS}/service.key`, '/etc/modules-load.d/pikube-kubernetes.conf', '/etc/sysctl.d/90-pikube-kubernetes.conf',
    '/usr/local/lib/pikube/firstboot.sh', '/usr/local/lib/pikube/boot-test-finish.sh', '/etc/systemd/system/pikube-firstboot.service', '/etc/systemd/system/multi-user.target.wants/pikube-firstboot.service',
    '/var/lib/pikube/build/myapp_1/Dockerfile', '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-pikube-cgroup-v1.conf'];
  const stats = await statInImage(output, paths);
  t.like(stats.get('/usr/local/bin/k3s'), { type: 'regular', mode: 0o755, uid: 0, gid: 0, size: release.binary.length });
  for (const link of ['kubectl', 'crictl', 'ctr']) t.like(stats.get(`/usr/local/bin/${link}`), { type: 'symlink', linkTarget: 'k3s' });
  t.like(stats.get('/etc/rancher/k3s/config.yaml'), { mode: 0o600, uid: 0 });
  t.like(stats.get('/etc/systemd/system/k3s.service'), { mode: 0o644 });
  t.like(stats.get('/etc/systemd/system/k3s.service.env'), { mode: 0o600, size: 0 });
  t.like(stats.get('/etc/systemd/system/multi-user.target.wants/k3s.service'), { type: 'symlink', linkTarget: '/etc/systemd/system/k3s.service' });
  t.like(stats.get('/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm.tar.zst'), { size: release.airgap.length, mode: 0o644 });
  for (const key of [`${TLS}/server-ca.key`, `${TLS}/client-ca.key`, `${TLS}/etcd/peer-ca.key`, `${TLS}/service.key`]) t.like(stats.get(key), { mode: 0o600, uid: 0, gid: 0 }, key);
  t.like(stats.get(`${TLS}/server-ca.crt`), { mode: 0o644 });
  t.like(stats.get('/usr/local/lib/pikube/firstboot.sh'), { type: 'regular', mode: 0o755, uid: 0 });
  t.like(stats.get('/usr/local/lib/pikube/boot-test-finish.sh'), { type: 'regular', mode: 0o755, uid: 0 });
  for (const [path, name] of [['/usr/local/lib/pikube/firstboot.sh', 'firstBoot'], ['/usr/local/lib/pikube/boot-test-finish.sh', 'bootTestFinish']] as const) {
    t.deepEqual(await readRootFile(output, path, dir), await readFile(locateOverlayScript(name)), `${path} is the overlay/ file byte for byte`);
  }
  t.like(stats.get('/etc/systemd/system/multi-user.target.wants/pikube-firstboot.service'), { type: 'symlink' });
  t.like(stats.get('/var/lib/pikube/build/myapp_1/Dockerfile'), { type: 'regular' });
  t.is(stats.get('/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-pikube-cgroup-v1.conf'), undefined, 'k3s 1.34 runs on cgroup v1 without a drop-in');
  t.is(sha256((await readRootFile(output, '/usr/local/bin/k3s', dir)) ?? ''), sha256(release.binary));

  const config = parse((await readRootFile(output, '/etc/rancher/k3s/config.yaml', dir))?.toString() ?? '') as Record<string, unknown>;
  const serverCa = (await readRootFile(output, `${TLS}/server-ca.crt`, dir))?.toString() ?? '';
  t.like(config, { 'node-name': 'pi-k3s', 'node-ip': '192.168.1.50', 'write-kubeconfig-mode': '0600', disable: ['traefik'] });
  t.deepEqual(config['tls-san'], ['pi-k3s', 'pi-k3s.local', '192.168.1.50']);
  t.true(String(config.token).startsWith(`K10${sha256(serverCa)}::server:`));
  t.regex((await readRootFile(output, '/etc/systemd/system/k3s.service', dir))?.toString() ?? '', /ExecStart=\/usr\/local\/bin\/k3s \\\n    server/);

  const cmdline = await readBootFile(output, '/cmdline.txt') ?? '';
  t.is(cmdline.split('\n').filter(Boolean).length, 1);
  for (const flag of ['cgroup_enable=cpuset', 'cgroup_enable=memory', 'cgroup_memory=1']) t.is(cmdline.split(/\s+/).filter((w) => w === flag).length, 1, flag);
  t.regex(await readBootFile(output, '/fake-hwclock.data') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/, 'Hypriot links the clock seed to /boot');

  const userData = await readBootFile(output, '/user-data') ?? '';
  t.true(userData.startsWith('#cloud-config\n'));
  const cloud = parse(userData) as { hostname: string; users: Array<{ name: string; ssh_authorized_keys: string[] }> };
  t.is(cloud.hostname, 'pi-k3s');
  t.deepEqual(cloud.users[0]?.ssh_authorized_keys, [KEY]);
  t.regex((parse(await readBootFile(output, '/meta-data') ?? '') as Record<string, string>)['instance-id'] ?? '', /^pikube-/);
  const network = parse(await readBootFile(output, '/network-config') ?? '') as { config: Array<{ subnets?: Array<{ address: string }> }> };
  t.is(network.config[0]?.subnets?.[0]?.address, '192.168.1.50/24');

  const kubeconfig = `${output}.kubeconfig`;
  t.is((await stat(kubeconfig)).mode & 0o777, 0o600);
  const view = JSON.parse(String((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', kubeconfig])).stdout)) as { clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>; users: Array<{ user: { 'client-certificate-data': string } }> };
  t.is(view.clusters[0]?.cluster.server, 'https://192.168.1.50:6443');
  t.is(Buffer.from(view.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), serverCa);
  await writeFile(join(dir, 'admin.crt'), Buffer.from(view.users[0]?.user['client-certificate-data'] ?? '', 'base64'));
  await writeFile(join(dir, 'client-ca.crt'), (await readRootFile(output, `${TLS}/client-ca.crt`, dir)) ?? '');
  t.is((await execa('openssl', ['verify', '-CAfile', join(dir, 'client-ca.crt'), join(dir, 'admin.crt')], { reject: false })).exitCode, 0);

  const script = join(dir, 'firstboot.sh');
  await writeFile(script, (await readRootFile(output, '/usr/local/lib/pikube/firstboot.sh', dir)) ?? '');
  t.is((await execa('bash', ['-n', script], { reject: false })).exitCode, 0);
  t.is((await execa('shellcheck', [script], { reject: false })).exitCode, 0);
  t.regex((await readRootFile(output, '/etc/pikube/firstboot.env', dir))?.toString() ?? '', /PIKUBE_BUILDS="myapp:1=\/var\/lib\/pikube\/build\/myapp_1"/);

  const tarballName = `/var/lib/rancher/k3s/agent/images/pikube-${image.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`;
  const tarball = join(dir, 'image.tar');
  await writeFile(tarball, (await readRootFile(output, tarballName, dir)) ?? '');
  const manifest = JSON.parse(String((await execa('tar', ['-xOf', tarball, 'manifest.json'])).stdout)) as Array<{ Config: string }>;
  t.is(manifest[0]?.Config, `blobs/sha256/${registry.imageFor('linux/arm/v7').configDigest.slice(7)}`, 'the image was pulled for linux/arm/v7');

  const record = JSON.parse((await readRootFile(output, '/etc/pikube/build.json', dir))?.toString() ?? '{}') as { inputs: Array<{ role: string; sha256: string; url?: string }> };
  t.like(record.inputs.find((i) => i.role === 'k3s'), { sha256: sha256(release.binary), url: 'https://github.com/k3s-io/k3s/releases/download/v1.34.11%2Bk3s1/k3s-armhf' });
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);

  const again = join(dir, 'again.img');
  const second = await runCli(['build', '-c', recipe, '-o', again, '--base', output, '--offline'], { env });
  t.is(second.exitCode, 0, second.stderr);
  const cmdline2 = await readBootFile(again, '/cmdline.txt') ?? '';
  t.is(cmdline2, cmdline, 'a second build adds no flag twice');
});

test('a Raspberry Pi OS-shaped arm64 base gets NetworkManager files, rpi-swap off and the cgroup v1 drop-in only where needed', async (t) => {
  const { dir } = await makeBase(t, { arch: 'arm64', table: 'gpt' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, hostname: 'pi-arm64',
    user: { name: 'pi', password: 'raspberry', sshAuthorizedKeys: [KEY] },
    wifi: { ssid: 'home', psk: 'long-enough-psk', country: 'DE' },
    network: { address: '10.0.0.7/24', gateway: '10.0.0.1' },
    kubernetes: {},
  });
  const output = join(dir, 'arm64.img');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  const stats = await statInImage(output, ['/etc/NetworkManager/system-connections/pikube-wifi.nmconnection', '/etc/NetworkManager/system-connections/pikube-eth0.nmconnection',
    '/etc/rpi/swap.conf.d/90-pikube-no-swap.conf', '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-pikube-cgroup-v1.conf', '/etc/fake-hwclock.data', '/etc/ssh/authorized_keys/pi']);
  t.like(stats.get('/etc/NetworkManager/system-connections/pikube-wifi.nmconnection'), { mode: 0o600 });
  t.like(stats.get('/etc/NetworkManager/system-connections/pikube-eth0.nmconnection'), { mode: 0o600 });
  t.regex((await readRootFile(output, '/etc/NetworkManager/system-connections/pikube-eth0.nmconnection', dir))?.toString() ?? '', /address1=10\.0\.0\.7\/24,10\.0\.0\.1/);
  t.is((await readRootFile(output, '/etc/rpi/swap.conf.d/90-pikube-no-swap.conf', dir))?.toString(), '[Main]\nMechanism=none\n');
  t.is(stats.get('/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-pikube-cgroup-v1.conf'), undefined, 'k3s 1.36 on a cgroup v2 base needs no failCgroupV1: false');
  t.like(stats.get('/etc/fake-hwclock.data'), { type: 'regular' });
  t.regex(await readBootFile(output, '/userconf.txt') ?? '', /^pi:\$6\$/);
  t.regex((await readRootFile(output, '/etc/pikube/firstboot.env', dir))?.toString() ?? '', /PIKUBE_BOOT=\/boot\/firmware/);
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);
});

test('a wrong checksum, an unknown version and a release without this architecture each fail clearly, leaving nothing', async (t) => {
  const { dir } = await makeBase(t, { arch: 'arm64' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64', { wrongBinaryChecksum: true });
  serveK3sRelease(mirror, 'v1.35.8+k3s1', 'arm64', { omitBinaryChecksum: true });
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const cases: Array<[string, RegExp]> = [
    ['v1.36.4+k3s1', /checksum mismatch for .*k3s-arm64: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/],
    ['v1.99.0+k3s1', /k3s v1\.99\.0\+k3s1 is not a published release/],
    ['v1.35.8+k3s1', /sha256sum-arm64\.txt lists no single sha256 for k3s-arm64/],
  ];
  for (const [version, message] of cases) {
    const recipe = await writeRecipe(dir, { base: 'base.img', mirror: mirror.url, hostname: 'pi', kubernetes: { version } });
    const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')], { env });
    t.is(result.exitCode, 1, `${version}: ${result.stderr}`);
    t.regex(result.stderr, message, version);
  }
  const bad = await runCli(['plan', '-c', await writeRecipe(dir, { base: 'base.img', hostname: 'pi', kubernetes: { version: '1.36' } })], { env });
  t.is(bad.exitCode, 1);
  t.regex(bad.stderr, /kubernetes\.version: must be a release such as v1\.34\.11\+k3s1/);
  const left = (await import('node:fs/promises').then((fs) => fs.readdir(dir))).filter((n) => n.startsWith('.') || n.startsWith('out.img'));
  t.deepEqual(left, []);
});
