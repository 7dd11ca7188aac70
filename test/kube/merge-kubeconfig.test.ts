import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { makeKubeconfig } from '../../src/kube/kubeconfig.ts';
import { findKubeconfigPath, mergeKubeconfig } from '../../src/pipeline/merge-kubeconfig.ts';
import { runCli } from '../helpers/cli.ts';
import { makeBase } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { makeTempDir } from '../helpers/temp.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const existing = stringify({
  apiVersion: 'v1', kind: 'Config',
  clusters: [{ name: 'work', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('work ca') } }],
  users: [{ name: 'work-user', user: { token: 'work-token' } }],
  contexts: [{ name: 'work', context: { cluster: 'work', user: 'work-user', namespace: 'team' } }],
  'current-context': 'work',
});

const contexts = async (kubeconfig: string) => (await execa('kubectl', ['config', 'get-contexts', '-o', 'name', '--kubeconfig', kubeconfig])).stdout.split('\n').sort();

test('--kubeconfig-merge puts the node into ~/.kube/config as its own context, keeps every other context, and backs the file up first', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const home = join(dir, 'home');
  await mkdir(join(home, '.kube'), { recursive: true });
  const config = join(home, '.kube', 'config');
  await writeFile(config, existing, { mode: 0o600 });
  const recipe = await writeRecipe(dir, { base: 'base.img', mirror: mirror.url, hostname: 'pi-1', user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv' }, kubernetes: { distribution: 'k3s' } });
  const env = { PIKUBE_CACHE: join(dir, 'cache'), HOME: home, KUBECONFIG: '' };
  const built = await runCli(['build', '-c', recipe, '-o', join(dir, 'pi.img'), '--kubeconfig-merge'], { env });
  t.is(built.exitCode, 0, built.stderr);
  t.regex(built.stderr, /merged the cluster into .*\.kube\/config as context pi-1, now the current one \(the file as it was: .*config\.pikube-backup-\d{8}T\d{6}Z\)/);
  t.deepEqual(await contexts(config), ['pi-1', 'work']);
  t.is((await execa('kubectl', ['config', 'current-context', '--kubeconfig', config])).stdout, 'pi-1');
  const view = JSON.parse((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', config])).stdout) as { clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>; contexts: Array<{ name: string; context: { namespace?: string; user: string } }> };
  t.like(view.clusters.find((c) => c.name === 'work'), { cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('work ca') } });
  t.like(view.contexts.find((c) => c.name === 'work'), { context: { namespace: 'team', user: 'work-user' } });
  t.like(view.contexts.find((c) => c.name === 'pi-1'), { context: { user: 'pi-1-admin' } });
  const own = await readFile(join(dir, 'pi.img.kubeconfig'), 'utf8');
  t.true(own.includes(view.clusters.find((c) => c.name === 'pi-1')?.cluster['certificate-authority-data'] ?? '-'), 'the merged cluster trusts the node\'s CA');
  const backups = (await readdir(join(home, '.kube'))).filter((name) => name.startsWith('config.pikube-backup-'));
  t.is(backups.length, 1);
  t.is(await readFile(join(home, '.kube', backups[0] ?? ''), 'utf8'), existing, 'the backup is the file as it was');
  t.is((await stat(config)).mode & 0o777, 0o600);
});

test('the merge goes into the first file of $KUBECONFIG, replaces its own earlier entries and leaves the other files alone', async (t) => {
  const dir = await makeTempDir(t);
  const [first, second, source] = ['a', 'b', 'cluster.kubeconfig'].map((name) => join(dir, name)) as [string, string, string];
  await writeFile(first, existing);
  await writeFile(second, existing);
  t.is(findKubeconfigPath({ KUBECONFIG: `${first}${delimiter}${second}` }), first);
  t.is(findKubeconfigPath({ HOME: dir, KUBECONFIG: '' }).endsWith(join('.kube', 'config')), true);
  const made = (ca: string) => makeKubeconfig({ clusterName: 'pi-1', server: 'https://192.168.1.50:6443', caPem: ca, userName: 'pi-1-admin', certPem: 'cert', keyPem: 'key' });
  await writeFile(source, made('first ca'));
  await mergeKubeconfig(source, 'home', findKubeconfigPath({ KUBECONFIG: `${first}${delimiter}${second}` }), new Date('2026-01-01T00:00:00Z'));
  await writeFile(source, made('second ca'));
  const merged = await mergeKubeconfig(source, 'home', first, new Date('2026-01-02T00:00:00Z'));
  t.is(merged.backup, `${first}.pikube-backup-20260102T000000Z`);
  t.deepEqual(await contexts(first), ['home', 'work']);
  const view = JSON.parse((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', first])).stdout) as { clusters: Array<{ name: string; cluster: { 'certificate-authority-data': string } }>; users: Array<{ name: string }> };
  t.deepEqual(view.clusters.map((c) => c.name).sort(), ['home', 'work'], 'a second merge replaces the first one\'s entries');
  t.is(view.clusters.find((c) => c.name === 'home')?.cluster['certificate-authority-data'], b64('second ca'));
  t.deepEqual(view.users.map((u) => u.name).sort(), ['home-admin', 'work-user']);
  t.is(await readFile(second, 'utf8'), existing, 'the other file is untouched');

  await writeFile(first, 'clusters: [unclosed\n');
  await t.throwsAsync(mergeKubeconfig(source, 'home', first), { message: /is not valid YAML .*so pikube leaves it alone/ });
  t.is(await readFile(first, 'utf8'), 'clusters: [unclosed\n');
});
