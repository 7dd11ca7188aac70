import { createHash, generateKeyPairSync } from 'node:crypto';
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { hashFile } from '../../src/acquire/hash-file.ts';
import { runCli } from '../helpers/cli.ts';
import { makeBase, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe, TEST_SSH_KEY } from '../helpers/recipe.ts';

const TLS = '/var/lib/rancher/k3s/server/tls';
const USER = { name: 'pirate', password: 'hypriot', sshAuthorizedKeys: [TEST_SSH_KEY] };

interface ClusterJson {
  cluster: { name: string; id: string };
  nodes: Array<{ hostname: string; status: string; digest: string; image: string }>;
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as ClusterJson;
const fileSha = async (path: string) => (await hashFile(path)).sha256;

test('a k3s cluster lives on: an agent added to the recipe later gets the only new card, with the cluster\'s token and CA; the others stay byte for byte', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const nodes = [
    { hostname: 'pi-1', role: 'server', network: { address: '192.168.1.50/24', gateway: '192.168.1.1' } },
    { hostname: 'pi-2', role: 'agent' },
    { hostname: 'pi-3', role: 'agent' },
  ];
  const recipeOf = (list: unknown[], motd = 'a pikube cluster\n') => ({
    base: 'base.img', mirror: mirror.url, user: USER, kubernetes: { distribution: 'k3s' },
    files: [{ path: '/etc/motd', content: motd }], cluster: { name: 'home', nodes: list },
  });
  const recipe = await writeRecipe(dir, recipeOf(nodes));
  const output = join(dir, 'cluster');
  const first = await runCli(['build', '-c', recipe, '-o', output], { env });
  t.is(first.exitCode, 0, first.stderr);
  t.regex(first.stderr, /made the cluster's secrets in .*cluster\/secrets: keep this folder \(and a backup of it\) to add nodes later; never commit it/);
  const secrets = join(output, 'secrets');
  t.is((await stat(secrets)).mode & 0o777, 0o700);
  for (const file of ['k3s/tls/server-ca.key', 'k3s/tls/client-ca.key', 'k3s/token', 'k3s/admin.key', 'seed', 'nodes/pi-2/ssh_host_ed25519_key', 'secrets.json']) {
    t.is((await stat(join(secrets, file))).mode & 0o777, 0o600, file);
  }
  t.regex(await readFile(join(secrets, '.gitignore'), 'utf8'), /^\*$/m, 'git ignores the whole folder');
  const before = await readJson(join(output, 'cluster.json'));
  t.deepEqual(before.nodes.map((n) => n.status), ['written', 'written', 'written']);
  const names = ['pi-1', 'pi-2', 'pi-3'];
  const sums = new Map<string, string>();
  for (const name of names) for (const file of [`${name}.img`, `${name}.img.bmap`]) sums.set(file, await fileSha(join(output, file)));

  // pikube plan reads the kept secrets and cluster.json (never writing either): every card is unchanged.
  const secretsSums = async () => Promise.all((await readdir(secrets, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map(async (e) => `${e.name} ${await fileSha(join(e.parentPath, e.name))}`));
  const secretsBefore = await secretsSums();
  const unchanged = await runCli(['plan', '-c', recipe, '-o', output, '--offline'], { env });
  t.is(unchanged.exitCode, 0, unchanged.stderr);
  t.deepEqual([...unchanged.stdout.matchAll(/^== (\S+) \((\w+)\): (.*)$/gm)].map((m) => [m[1], m[3]]), names.map((name) => [name, 'unchanged: a build keeps this card byte for byte']));
  t.regex(unchanged.stdout, /\/etc\/ssh\/ssh_host_ed25519_key/, 'the plan shows the card\'s kept host keys');

  // A fourth Pi: one more node in the recipe.
  await writeRecipe(dir, recipeOf([...nodes, { hostname: 'pi-4', role: 'agent' }]));
  const planned = await runCli(['plan', '-c', recipe, '-o', output, '--offline', '--json'], { env });
  t.is(planned.exitCode, 0, planned.stderr);
  t.deepEqual((JSON.parse(planned.stdout) as Array<{ hostname: string; build: string }>).map((c) => [c.hostname, c.build]), [['pi-1', 'keep'], ['pi-2', 'keep'], ['pi-3', 'keep'], ['pi-4', 'write']]);
  t.deepEqual(await secretsSums(), secretsBefore, 'plan wrote nothing into the secrets folder');
  t.deepEqual((await readJson(join(output, 'cluster.json'))).nodes.map((n) => n.hostname), names, 'nor into the cluster folder');
  const added = await runCli(['build', '-c', recipe, '-o', output, '--offline'], { env });
  t.is(added.exitCode, 0, added.stderr);
  t.regex(added.stderr, /card 1\/1: pi-4 \(agent\)/);
  t.notRegex(added.stderr, /card \d\/\d: pi-[123]/, 'no other card is written');
  t.regex(added.stderr, /flash only the new or changed cards: sudo pikube flash .*pi-4\.img/);
  const after = await readJson(join(output, 'cluster.json'));
  t.deepEqual(after.nodes.map((n) => [n.hostname, n.status]), [['pi-1', 'unchanged'], ['pi-2', 'unchanged'], ['pi-3', 'unchanged'], ['pi-4', 'written']]);
  t.is(after.cluster.id, before.cluster.id);
  for (const [file, sum] of sums) t.is(await fileSha(join(output, file)), sum, `${file} is byte-identical`);
  const read = async (name: string, path: string) => (await readRootFile(join(output, `${name}.img`), path, dir))?.toString() ?? '';
  const serverConfig = parse(await read('pi-1', '/etc/rancher/k3s/config.yaml')) as Record<string, string>;
  const newConfig = parse(await read('pi-4', '/etc/rancher/k3s/config.yaml')) as Record<string, string>;
  const oldAgent = parse(await read('pi-2', '/etc/rancher/k3s/config.yaml')) as Record<string, string>;
  t.is(newConfig.token, serverConfig.token, 'the new card joins with the cluster\'s token');
  t.is(newConfig.token, oldAgent.token);
  t.is(newConfig.server, 'https://192.168.1.50:6443');
  t.true(newConfig.token?.startsWith(`K10${sha256(await read('pi-1', `${TLS}/server-ca.crt`))}::`), 'its token pins the running server\'s CA');
  t.is(await read('pi-4', '/etc/motd'), 'a pikube cluster\n');
  t.not(await read('pi-4', '/etc/ssh/ssh_host_ed25519_key'), await read('pi-2', '/etc/ssh/ssh_host_ed25519_key'), 'the new card has its own host key');
  t.is(await readFile(join(secrets, 'nodes/pi-4/ssh_host_ed25519_key'), 'utf8'), await read('pi-4', '/etc/ssh/ssh_host_ed25519_key'), 'and the secrets folder keeps it');
  const meta = async (name: string) => (await readRootFile(join(output, `${name}.img`), '/etc/pikube/build.json', dir))?.toString() ?? '';
  t.regex(await meta('pi-4'), /"recipeSha256"/);

  // --only: a change for every card, written only where asked; the others are kept and reported as stale.
  const unknown = await runCli(['build', '-c', recipe, '-o', output, '--offline', '--only', 'pi-9'], { env });
  t.is(unknown.exitCode, 1);
  t.regex(unknown.stderr, /--only pi-9: the recipe has no node pi-9/);
  await writeRecipe(dir, recipeOf([...nodes, { hostname: 'pi-4', role: 'agent' }], 'welcome\n'));
  const only = await runCli(['build', '-c', recipe, '-o', output, '--offline', '--only', 'pi-4'], { env });
  t.is(only.exitCode, 0, only.stderr);
  t.deepEqual((await readJson(join(output, 'cluster.json'))).nodes.map((n) => n.status), ['stale', 'stale', 'stale', 'written']);
  t.regex(only.stderr, /kept pi-1\.img as it was, but the recipe changes it: build it with --only pi-1/);
  t.is(await read('pi-4', '/etc/motd'), 'welcome\n');
  t.is(await fileSha(join(output, 'pi-1.img')), sums.get('pi-1.img') ?? '');
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), [], 'no temporary folder is left');
});

test('a secrets folder that does not match the recipe is refused and left as it was', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const recipeOf = (cluster: Record<string, unknown>) => ({
    base: 'base.img', mirror: mirror.url, user: USER, kubernetes: { distribution: 'k3s' },
    cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'pi-2', role: 'agent' }], secrets: 'keep/home', ...cluster },
  });
  const recipe = await writeRecipe(dir, recipeOf({}));
  const output = join(dir, 'cluster');
  const built = await runCli(['build', '-c', recipe, '-o', output], { env });
  t.is(built.exitCode, 0, built.stderr);
  const secrets = join(dir, 'keep', 'home');
  t.true((await stat(join(secrets, 'secrets.json'))).isFile(), 'cluster.secrets puts the folder beside the recipe');
  t.false(await stat(join(output, 'secrets')).then(() => true, () => false));
  const pristine = join(dir, 'pristine');
  await cp(secrets, pristine, { recursive: true });
  const cards = await fileSha(join(output, 'pi-1.img'));
  const refused = async (pattern: RegExp, args: string[] = []) => {
    const result = await runCli(['build', '-c', recipe, '-o', output, '--offline', ...args], { env });
    t.is(result.exitCode, 1, result.stderr);
    t.regex(result.stderr, pattern);
    t.regex(result.stderr, /hint: /);
    t.is(await fileSha(join(output, 'pi-1.img')), cards, 'the cards are left alone');
    return result;
  };
  const restore = async () => {
    await rm(secrets, { recursive: true, force: true });
    await cp(pristine, secrets, { recursive: true });
  };

  // A key edited in place: its digest no longer matches the folder's manifest.
  const key = join(secrets, 'k3s/tls/client-ca.key');
  await writeFile(key, `${await readFile(key, 'utf8')}\n`);
  await refused(/the secrets folder .*keep\/home has k3s\/tls\/client-ca\.key changed since pikube wrote it/);
  t.regex(await readFile(key, 'utf8'), /\n\n$/, 'the tampered file is not replaced');
  await restore();

  // Another valid key with the manifest updated to match: the key is not its certificate's.
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  await writeFile(key, other);
  const manifest = JSON.parse(await readFile(join(secrets, 'secrets.json'), 'utf8')) as { files: Record<string, string> };
  manifest.files['k3s/tls/client-ca.key'] = createHash('sha256').update(other).digest('hex');
  await writeFile(join(secrets, 'secrets.json'), JSON.stringify(manifest));
  await refused(/k3s\/tls\/client-ca\.key: the key is not the one its certificate was issued for/);
  await restore();

  // A file pikube did not write.
  await writeFile(join(secrets, 'notes.txt'), 'mine\n');
  await refused(/holds notes\.txt, which pikube did not write/);
  await restore();

  // Another cluster's recipe pointed at this folder.
  await writeRecipe(dir, recipeOf({ name: 'office' }));
  await refused(/belongs to the cluster "pikube", and this recipe builds "office"/);
  await writeRecipe(dir, recipeOf({}));

  // The folder lost: never silently replaced by new secrets the running cluster would reject.
  await rm(secrets, { recursive: true });
  await refused(/holds the cards of cluster "pikube", and its secrets folder .* is missing/);
  await restore();

  // Another cluster's secrets (another id) for this folder of cards.
  const otherSecrets = join(dir, 'other-secrets');
  await cp(pristine, otherSecrets, { recursive: true });
  const otherManifest = JSON.parse(await readFile(join(otherSecrets, 'secrets.json'), 'utf8')) as { id: string };
  await writeFile(join(otherSecrets, 'secrets.json'), JSON.stringify({ ...otherManifest, id: '00000000-0000-4000-8000-000000000000' }));
  await refused(/holds the cards of another cluster than the secrets folder/, ['--secrets', otherSecrets]);

  const fine = await runCli(['build', '-c', recipe, '-o', output, '--offline'], { env });
  t.is(fine.exitCode, 0, fine.stderr);
  t.regex(fine.stderr, /every card is unchanged: nothing to write/);
  t.deepEqual((await readJson(join(output, 'cluster.json'))).nodes.map((n) => n.status), ['unchanged', 'unchanged']);
  t.like((await statInImage(join(output, 'pi-1.img'), [`${TLS}/client-ca.key`])).get(`${TLS}/client-ca.key`), { mode: 0o600 });
});
