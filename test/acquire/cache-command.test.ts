import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { keyForUrl } from '../../src/acquire/cache-store.ts';
import { fetchArtifact } from '../../src/acquire/fetch-artifact.ts';
import { serveBytes, startFixture } from './helpers/http-fixture.ts';
import { makeTempDir } from '../helpers/temp.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pikube = path.join(root, 'bin', 'pikube.js');

function blob(size: number): { body: Buffer; sha256: string } {
  const body = randomBytes(size);
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

test('two processes racing for one entry download it once and share it', async (t) => {
  const dir = await makeTempDir(t, 'pikube-cachecmd-');
  const fixture = await startFixture();
  t.teardown(() => fixture.close());
  const { body, sha256 } = blob(2 * 1024 * 1024);
  fixture.route('/race.img.zip', (request, response, count) => setTimeout(() => serveBytes(body)(request, response, count), 700));
  const child = path.join(root, 'test', 'acquire', 'helpers', 'fetch-child.ts');
  const run = () => execa('node', ['--import', 'tsx', child, `${fixture.base}/race.img.zip`, sha256, dir], { cwd: root });
  const [a, b] = await Promise.all([run(), run()]);
  const results = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as { path: string; fromCache: boolean }[];
  t.is(results[0]?.path, results[1]?.path);
  t.deepEqual(results.map((r) => r.fromCache).sort(), [false, true]);
  t.is(fixture.requests.length, 1);
  t.true((await readFile(results[0]!.path)).equals(body));
  t.regex(a.stderr + b.stderr, /waiting for another pikube \(pid \d+\)/);
  t.deepEqual(await readdir(path.join(dir, 'locks')), []);
});

test('cache ls lists entries; prune --older-than removes old ones but never a locked one', async (t) => {
  const dir = await makeTempDir(t, 'pikube-cachecmd-');
  const fixture = await startFixture();
  t.teardown(() => fixture.close());
  const files = { old: blob(1000), fresh: blob(2000), busy: blob(3000) };
  for (const [name, { body }] of Object.entries(files)) fixture.route(`/${name}.img`, serveBytes(body));
  for (const [name, { sha256 }] of Object.entries(files)) await fetchArtifact(`${fixture.base}/${name}.img`, { sha256 }, { cacheDir: dir });
  const longAgo = new Date(Date.now() - 40 * 86_400_000);
  await utimes(path.join(dir, 'blobs', 'sha256', files.old.sha256), longAgo, longAgo);
  await utimes(path.join(dir, 'blobs', 'sha256', files.busy.sha256), longAgo, longAgo);
  await mkdir(path.join(dir, 'locks'), { recursive: true });
  await writeFile(path.join(dir, 'locks', `${keyForUrl(`${fixture.base}/busy.img`)}.lock`), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), since: new Date().toISOString(), what: 'test' }));

  const ls = await execa('node', [pikube, 'cache', '--cache', dir, 'ls'], { cwd: root });
  for (const { sha256 } of Object.values(files)) t.true(ls.stdout.includes(sha256.slice(0, 12)));
  t.regex(ls.stdout, new RegExp(`${fixture.base}/busy\\.img \\[in use\\]`));
  const json = JSON.parse((await execa('node', [pikube, 'cache', 'ls', '--json', '--cache', dir], { cwd: root })).stdout) as { entries: unknown[] };
  t.is(json.entries.length, 3);

  const prune = await execa('node', [pikube, 'cache', '--cache', dir, 'prune', '--older-than', '30d'], { cwd: root });
  t.is(prune.stdout.trim(), `removed ${files.old.sha256} (1000 B)`);
  t.regex(prune.stderr, /1 entries in use by another pikube were kept/);
  const left = await readdir(path.join(dir, 'blobs', 'sha256'));
  t.deepEqual(left.sort(), [files.fresh.sha256, files.busy.sha256].sort());

  await rm(path.join(dir, 'locks', `${keyForUrl(`${fixture.base}/busy.img`)}.lock`));
  await execa('node', [pikube, 'cache', '--cache', dir, 'prune', '--all'], { cwd: root });
  t.deepEqual(await readdir(path.join(dir, 'blobs', 'sha256')), []);
  t.deepEqual(await readdir(path.join(dir, 'index')), []);
});

test('cache prune without --older-than or --all is a usage error (exit 1)', async (t) => {
  const dir = await makeTempDir(t, 'pikube-cachecmd-');
  const result = await execa('node', [pikube, 'cache', 'prune', '--cache', dir], { cwd: root, reject: false });
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /cache prune needs --older-than <age> or --all/);
});

test('PIKUBE_CACHE chooses the cache when --cache is not given', async (t) => {
  const dir = await makeTempDir(t, 'pikube-cachecmd-');
  const result = await execa('node', [pikube, 'cache', 'ls'], { cwd: root, env: { PIKUBE_CACHE: dir } });
  t.regex(result.stderr, new RegExp(`cache: ${dir}`));
});
