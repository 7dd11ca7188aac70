import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { OVERLAY_SCRIPT_FILES } from '../../src/acquire/overlay-scripts.ts';
import { makeBase } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { makeTempDir } from '../helpers/temp.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('npm pack makes a package that installs globally and runs from any folder, finding its overlay and catalogs', async (t) => {
  const work = await makeTempDir(t);
  // --ignore-scripts: the tarball holds the dist/ that `npm test` built; packing's own clean rebuild (prepack) would
  // empty dist/ under the other tests running the CLI at the same time.
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], { cwd: root });
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string; mode: number }[] }];
  const paths = files.map((file) => file.path);
  t.true(paths.includes('dist/cli.js') && paths.includes('dist/acquire/catalog.json'));
  for (const script of Object.values(OVERLAY_SCRIPT_FILES)) {
    t.like(files.find((file) => file.path === `overlay/${script}`), { mode: 0o755 }, `the package holds overlay/${script}, executable`);
  }
  t.false(paths.some((path) => path.startsWith('src/') || path.startsWith('test/') || path.startsWith('cache/')), 'no sources, tests or cache in the package');

  // Scripts are skipped (drivelist's native build): nothing run here lists drives.
  const prefix = join(work, 'prefix');
  await execa('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(work, filename)], { cwd: work });
  const pikube = join(prefix, 'bin', 'pikube');
  const env = { NO_COLOR: '1', HOME: work, XDG_CACHE_HOME: join(work, 'xdg') };

  const help = await execa(pikube, ['--help'], { cwd: work, env });
  t.regex(help.stdout, /build\s+build an image from the recipe/);

  const { dir, base } = await makeBase(t);
  const card = join(work, 'card.img');
  const flashed = await execa(pikube, ['flash', base, '--device', card], { cwd: work, env, reject: false, all: true });
  t.is(flashed.exitCode, 0, flashed.all);
  t.regex(flashed.all ?? '', /read back and verified/, 'the read-back worker travels with the package');
  t.true((await readFile(card)).equals(await readFile(base)));

  const plain = await execa(pikube, ['plan', '-c', await writeRecipe(dir, { base: 'base.img', hostname: 'plain' })], { cwd: work, env, reject: false });
  t.is(plain.exitCode, 0, `the installed package reads its own scripts from its overlay/: ${plain.stderr}`);
  const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'packed', user: { name: 'pi' }, kubernetes: { distribution: 'k3s' } });
  const plan = await execa(pikube, ['plan', '-c', recipe, '--offline'], { cwd: work, env, reject: false });
  t.is(plan.exitCode, 1, plan.stderr);
  t.regex(plan.stderr, /offline/i, 'k3s is looked up in the cache');
  t.regex(plan.stderr, new RegExp(join(work, 'xdg', 'pikube').replaceAll('/', '\\/')), 'an installed package keeps its downloads in the user cache folder');

  const catalog = await execa(pikube, ['plan', '-c', recipe, '--base', 'hypriot', '--offline'], { cwd: work, env, reject: false });
  t.is(catalog.exitCode, 1);
  t.regex(catalog.stderr, /hypriotos-rpi-v[\d.]+\.img\.zip/, 'the catalog travels with the package');
});
