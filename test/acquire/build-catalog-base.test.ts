import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { getCatalogEntry } from '../../src/acquire/catalog.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readRootFile, sha256 } from '../helpers/image.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe } from '../helpers/recipe.ts';

test('`base: hypriot` downloads the zip and its .sha256 through a mirror, builds, and rebuilds offline from the cache', async (t) => {
  const { dir, base } = await makeBase(t, { arch: 'armhf' });
  const entry = getCatalogEntry('hypriot');
  const imageName = entry.url.split('/').pop()?.replace(/\.zip$/, '') ?? 'hypriot.img';
  await rename(base, join(dir, imageName));
  await execa('zip', ['-q', '-j', join(dir, 'hypriot.zip'), join(dir, imageName)]);
  const zip = await readFile(join(dir, 'hypriot.zip'));
  const checksumUrl = 'url' in entry.checksum ? entry.checksum.url : '';
  const mirror = await startMirror(t, { [entry.url]: zip, [checksumUrl]: `${sha256(zip)}  ${entry.url.split('/').pop()}\n` });
  const recipe = await writeRecipe(dir, { base: 'hypriot', hostname: 'from-catalog', files: [{ path: '/etc/motd', content: 'catalog\n' }] });
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const output = join(dir, 'out.img');

  const offlineEmpty = await runCli(['build', '-c', recipe, '-o', output, '--offline'], { env });
  t.is(offlineEmpty.exitCode, 1);
  t.regex(offlineEmpty.stderr, /offline, and the cache .* does not hold https:\/\/github\.com\/hypriot/);

  const built = await runCli(['build', '-c', recipe, '-o', output, '--mirror', mirror.url], { env });
  t.is(built.exitCode, 0, built.stderr);
  t.true(mirror.requests.some((path) => path.endsWith('.img.zip')));
  const record = JSON.parse((await readRootFile(output, '/etc/pikube/build.json', dir))?.toString() ?? '{}') as { inputs: Array<{ role: string; sha256: string; url?: string }> };
  t.like(record.inputs[0], { role: 'base', sha256: sha256(zip), url: entry.url });
  t.is((await readRootFile(output, '/etc/motd', dir))?.toString(), 'catalog\n');
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);

  const requestsBefore = mirror.requests.length;
  const offline = await runCli(['build', '-c', recipe, '-o', join(dir, 'offline.img'), '--offline'], { env });
  t.is(offline.exitCode, 0, offline.stderr);
  t.is(mirror.requests.length, requestsBefore, 'an offline build asks the network nothing');
});
