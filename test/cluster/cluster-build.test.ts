import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { readLayout } from '../../src/image/read-facts.ts';
import { runCli, startCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readBootFile, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe, TEST_SSH_KEY } from '../helpers/recipe.ts';

const KEY = TEST_SSH_KEY;
const TLS = '/var/lib/rancher/k3s/server/tls';

test('a 1-server, 2-agent k3s cluster: one image per card sharing the CA and token, each with its own name, address, machine id and host keys', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf' });
  const mirror = await startMirror(t);
  const release = serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url,
    user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv', sshAuthorizedKeys: [KEY] },
    kubernetes: { distribution: 'k3s', disable: ['traefik'] },
    files: [{ path: '/etc/motd', content: 'a pikube cluster\n' }],
    cluster: {
      nodes: [
        { hostname: 'pi-1', role: 'server', network: { address: '192.168.1.50/24', gateway: '192.168.1.1', dns: ['192.168.1.1'] } },
        { hostname: 'pi-2', role: 'agent', network: { address: '192.168.1.51/24', gateway: '192.168.1.1' } },
        { hostname: 'pi-3', role: 'agent' },
      ],
    },
  });
  const output = join(dir, 'cluster');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout.trim(), output);
  const names = ['pi-1', 'pi-2', 'pi-3'];
  t.deepEqual((await readdir(output)).sort(), ['cluster.json', 'cluster.kubeconfig', 'secrets', ...names.flatMap((n) => [`${n}.img`, `${n}.img.bmap`])].sort());
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), [], 'no temporary folder is left');
  const manifest = JSON.parse(await readFile(join(output, 'cluster.json'), 'utf8')) as { server: string; nodes: Array<{ hostname: string; role: string; image: string; bmap: string; size: number }> };
  t.is(manifest.server, 'https://192.168.1.50:6443');
  t.deepEqual(manifest.nodes.map((n) => [n.hostname, n.role, n.image, n.bmap]), names.map((n, i) => [n, i === 0 ? 'server' : 'agent', `${n}.img`, `${n}.img.bmap`]));

  const images = names.map((n) => join(output, `${n}.img`));
  const read = async (image: string, path: string) => (await readRootFile(image, path, dir))?.toString() ?? '';
  for (const [i, image] of images.entries()) {
    // bmaptool checks every range's checksum while copying; the copy equals the card, so the map misses no data.
    const copy = join(dir, `copy-${names[i]}.img`);
    const bmaptool = await execa('bmaptool', ['copy', '--bmap', `${image}.bmap`, image, copy], { reject: false });
    t.is(bmaptool.exitCode, 0, String(bmaptool.stderr));
    t.is(sha256(await readFile(copy)), sha256(await readFile(image)), `${names[i]}: the block map covers every byte of data`);
    t.is(manifest.nodes[i]?.size, (await stat(image)).size);
    await rm(copy);
    const fsck = await checkFilesystems(image, dir);
    t.is(fsck.ext + fsck.fat, 0, fsck.output);
    const cloud = parse(await readBootFile(image, '/user-data') ?? '') as { hostname: string };
    t.is(cloud.hostname, names[i] ?? '');
    t.is(await read(image, '/etc/motd'), 'a pikube cluster\n', 'top-level files reach every card');
    t.is(sha256(await readRootFile(image, '/usr/local/bin/k3s', dir) ?? ''), sha256(release.binary));
    t.is(await read(image, '/etc/machine-id'), '', 'systemd makes the machine id at first boot');
    t.like((await statInImage(image, ['/etc/machine-id'])).get('/etc/machine-id'), { type: 'regular', size: 0 });
  }
  const [server, agent, mdnsAgent] = images as [string, string, string];
  const serverConfig = parse(await read(server, '/etc/rancher/k3s/config.yaml')) as Record<string, unknown>;
  const serverCa = await read(server, `${TLS}/server-ca.crt`);
  t.like(serverConfig, { 'node-name': 'pi-1', 'node-ip': '192.168.1.50', disable: ['traefik'] });
  t.deepEqual(serverConfig['tls-san'], ['pi-1', 'pi-1.local', '192.168.1.50']);
  t.true(String(serverConfig.token).startsWith(`K10${sha256(serverCa)}::server:`));
  t.is(serverConfig.server, undefined);
  for (const [image, name, ip] of [[agent, 'pi-2', '192.168.1.51'], [mdnsAgent, 'pi-3', undefined]] as const) {
    const config = parse(await read(image, '/etc/rancher/k3s/config.yaml')) as Record<string, unknown>;
    t.deepEqual(config, { server: 'https://192.168.1.50:6443', token: serverConfig.token, 'node-name': name, ...(ip ? { 'node-ip': ip } : {}), 'prefer-bundled-bin': true }, name);
    const stats = await statInImage(image, ['/etc/systemd/system/k3s-agent.service', '/etc/systemd/system/multi-user.target.wants/k3s-agent.service',
      '/etc/systemd/system/k3s.service', `${TLS}/server-ca.key`, `${TLS}/server-ca.crt`]);
    t.like(stats.get('/etc/systemd/system/multi-user.target.wants/k3s-agent.service'), { type: 'symlink', linkTarget: '/etc/systemd/system/k3s-agent.service' });
    t.is(stats.get('/etc/systemd/system/k3s.service'), undefined, `${name} runs no server`);
    t.is(stats.get(`${TLS}/server-ca.key`), undefined, `${name} holds no CA key`);
    t.regex(await read(image, '/etc/systemd/system/k3s-agent.service'), /ExecStart=\/usr\/local\/bin\/k3s \\\n    agent/);
    t.regex(await read(image, '/etc/pikube/firstboot.env'), /PIKUBE_ROLE=agent\nPIKUBE_NODE=.*\nPIKUBE_SERVICE=k3s-agent\.service/);
  }
  t.regex(await read(server, '/etc/pikube/firstboot.env'), /PIKUBE_ROLE=server\n/);

  const network = async (image: string) => (parse(await readBootFile(image, '/network-config') ?? 'config: []') as { config: Array<{ subnets?: Array<{ address: string; gateway: string }> }> }).config[0]?.subnets?.[0];
  t.like(await network(server), { address: '192.168.1.50/24', gateway: '192.168.1.1' });
  t.like(await network(agent), { address: '192.168.1.51/24', gateway: '192.168.1.1' });
  t.is(await readBootFile(mdnsAgent, '/network-config'), undefined, 'pi-3 keeps DHCP');

  const keys = ['ed25519', 'ecdsa'].flatMap((type) => [`/etc/ssh/ssh_host_${type}_key`, `/etc/ssh/ssh_host_${type}_key.pub`]);
  const seen = new Map<string, string>();
  for (const [i, image] of images.entries()) {
    const stats = await statInImage(image, keys);
    for (const key of keys) {
      t.like(stats.get(key), { type: 'regular', mode: key.endsWith('.pub') ? 0o644 : 0o600, uid: 0 }, key);
      const body = await read(image, key);
      t.true(body.length > 0);
      t.false(seen.has(body), `${names[i]} ${key} is shared with ${seen.get(body)}`);
      seen.set(body, names[i] ?? '');
    }
    t.regex(await read(image, '/etc/ssh/ssh_host_ed25519_key.pub'), new RegExp(`^ssh-ed25519 \\S+ root@${names[i]}\\n$`));
    t.is((await statInImage(image, ['/etc/ssh/ssh_host_rsa_key'])).get('/etc/ssh/ssh_host_rsa_key'), undefined, 'no RSA key: the base had none');
    t.regex((parse(await readBootFile(image, '/meta-data') ?? '') as Record<string, string>)['instance-id'] ?? '', /^pikube-/);
  }
  const instanceIds = new Set(await Promise.all(images.map(async (image) => (parse(await readBootFile(image, '/meta-data') ?? '') as Record<string, string>)['instance-id'])));
  t.is(instanceIds.size, 3, 'every card is a new cloud-init instance');

  const kubeconfig = join(output, 'cluster.kubeconfig');
  t.is((await stat(kubeconfig)).mode & 0o777, 0o600);
  const view = JSON.parse(String((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', kubeconfig])).stdout)) as { clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>; users: Array<{ user: { 'client-certificate-data': string } }> };
  t.is(view.clusters[0]?.cluster.server, 'https://192.168.1.50:6443');
  t.is(Buffer.from(view.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), serverCa);
  await writeFile(join(dir, 'admin.crt'), Buffer.from(view.users[0]?.user['client-certificate-data'] ?? '', 'base64'));
  await writeFile(join(dir, 'client-ca.crt'), await read(server, `${TLS}/client-ca.crt`));
  t.is((await execa('openssl', ['verify', '-CAfile', join(dir, 'client-ca.crt'), join(dir, 'admin.crt')], { reject: false })).exitCode, 0);

  const plan = await runCli(['plan', '-c', recipe, '--offline'], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(plan.exitCode, 0, plan.stderr);
  // Without -o the plan looks at the folder a build would write by default (none here): every card is to be written.
  t.deepEqual(plan.stdout.split('\n').filter((line) => line.startsWith('== ')), ['pi-1 (server)', 'pi-2 (agent)', 'pi-3 (agent)'].map((card) => `== ${card}: a build writes this card`));
  t.regex(plan.stdout, /\/etc\/systemd\/system\/k3s-agent\.service/);

  const again = await runCli(['build', '-c', recipe, '-o', output, '--offline'], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(again.exitCode, 0, again.stderr);
  const second = parse(await read(server, '/etc/rancher/k3s/config.yaml')) as Record<string, unknown>;
  t.is(second.token, serverConfig.token, 'a rebuild keeps the cluster: its secrets come from DIR/secrets');
});

test('a base that ships an RSA host key: every card replaces it with its own', async (t) => {
  const { dir, base } = await makeBase(t, { arch: 'armhf' });
  const baked = join(dir, 'baked_rsa_key');
  await execa('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'baked', '-f', baked]);
  const root = await readLayout(base);
  const volume = `${base}?offset=${root.root.start * root.table.sectorSize}`;
  await execa('debugfs', ['-w', '-R', 'mkdir /etc/ssh', volume]);
  await execa('debugfs', ['-w', '-R', `write ${baked} /etc/ssh/ssh_host_rsa_key`, volume]);
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv' },
    kubernetes: { distribution: 'k3s' },
    cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'pi-2', role: 'agent' }] },
  });
  const output = join(dir, 'cluster');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  const bakedBody = await readFile(baked, 'utf8');
  const bodies: string[] = [];
  for (const name of ['pi-1', 'pi-2']) bodies.push((await readRootFile(join(output, `${name}.img`), '/etc/ssh/ssh_host_rsa_key', dir))?.toString() ?? '');
  for (const body of bodies) {
    t.regex(body, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
    t.not(body, bakedBody, 'the base\'s key is replaced');
  }
  t.not(bodies[0], bodies[1], 'no two cards share the RSA key');
});

test('Ctrl-C while cards are being derived exits 130 and leaves the older cluster folder as it was', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf', sizeMiB: 600, rootMiB: 500, fillerMiB: 200 });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv' },
    kubernetes: { distribution: 'k3s' },
    cluster: { nodes: ['pi-1', 'pi-2', 'pi-3', 'pi-4'].map((hostname, i) => ({ hostname, role: i === 0 ? 'server' : 'agent' })) },
  });
  const output = join(dir, 'cluster');
  await mkdir(output);
  await writeFile(join(output, 'cluster.json'), '{"nodes": []}\n');
  const child = startCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  let seen = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    if (seen.includes('card 1/4') && !child.killed) child.kill('SIGINT');
  });
  const result = await child;
  t.is(result.exitCode, 130, String(result.stderr));
  t.regex(String(result.stderr), /interrupted/);
  t.deepEqual(await readdir(output), ['cluster.json'], 'the older folder is untouched');
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), [], 'no temporary folder is left');
});

test('a cluster whose cards cannot fit on the output\'s disk is refused before any card is copied', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf', sizeMiB: 400, rootMiB: 300, fillerMiB: 40 });
  const small = join(dir, 'small');
  await mkdir(small);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=150m', 'tmpfs', small]);
  t.teardown(() => execa('umount', [small], { reject: false }));
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv' },
    kubernetes: { distribution: 'k3s' },
    cluster: { nodes: ['pi-1', 'pi-2', 'pi-3', 'pi-4', 'pi-5'].map((hostname, i) => ({ hostname, role: i === 0 ? 'server' : 'agent' })) },
  });
  const result = await runCli(['build', '-c', recipe, '-o', join(small, 'cluster')], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /the 5 cards need about [\d.]+ MiB more beside the output, and its filesystem has [\d.]+ MiB free/);
  t.regex(result.stderr, /hint: free some space, or choose -o DIR on a bigger disk/);
  t.notRegex(result.stderr, /card 1\/5/, 'no card was started');
  t.deepEqual(await readdir(small), [], 'nothing is left on the small disk');
});
