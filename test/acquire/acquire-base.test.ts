import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { acquireBase, resolveBase } from '../../src/acquire/acquire-base.ts';
import { findCatalogEntry, loadCatalog } from '../../src/acquire/catalog.ts';
import { unpackImage } from '../../src/acquire/unpack-image.ts';
import { UserError } from '../../src/errors.ts';
import { serveBytes, startFixture } from './helpers/http-fixture.ts';
import { makeTempDir } from '../helpers/temp.ts';

test('the catalog names hypriot and raspios-lite-arm64 with everything a build needs', (t) => {
  const hypriot = findCatalogEntry('hypriot');
  t.is(hypriot?.url, 'https://github.com/hypriot/image-builder-rpi/releases/download/v1.12.3/hypriotos-rpi-v1.12.3.img.zip');
  t.deepEqual(hypriot?.checksum, { url: `${hypriot?.url}.sha256`, format: 'sha256sum' });
  t.is(hypriot?.architecture, 'armhf');
  t.is(hypriot?.bootMount, '/boot');
  t.deepEqual(hypriot?.firstBoot.files, ['user-data', 'meta-data', 'network-config']);
  const raspios = findCatalogEntry('raspios-lite-arm64');
  t.is(raspios?.architecture, 'arm64');
  t.is(raspios?.compression, 'xz');
  t.is(raspios?.bootMount, '/boot/firmware');
  t.regex(raspios?.url ?? '', /^https:\/\/downloads\.raspberrypi\.com\/raspios_lite_arm64\/images\/.+-raspios-trixie-arm64-lite\.img\.xz$/);
  t.deepEqual([...loadCatalog().keys()].sort(), ['hypriot', 'raspios-lite-arm64']);
});

test('resolveBase tells catalog names, URLs and paths apart', (t) => {
  const catalog = resolveBase('hypriot');
  t.is(catalog.kind, 'catalog');
  t.deepEqual(catalog.kind === 'catalog' && catalog.check, { checksumUrl: `${findCatalogEntry('hypriot')?.url}.sha256` });
  const url = resolveBase('https://images.example/pi.img.xz', { sha256: 'a'.repeat(64) });
  t.deepEqual(url, { kind: 'url', url: 'https://images.example/pi.img.xz', check: { sha256: 'a'.repeat(64), checksumUrl: undefined }, entry: undefined });
  t.throws(() => resolveBase('https://images.example/pi.img.xz'), { instanceOf: UserError, message: /has no sha256/ });
  t.deepEqual(resolveBase('images/pi.img', { baseDir: '/recipes' }), { kind: 'path', path: '/recipes/images/pi.img', sha256: undefined, entry: undefined });
  const unknown = t.throws(() => resolveBase('ubuntu'), { instanceOf: UserError });
  t.is(unknown.message, 'unknown base image "ubuntu"');
  t.regex(unknown.hint ?? '', /hypriot, raspios-lite-arm64/);
});

test('base: hypriot through a loopback mirror serving a Hypriot-shaped zip and its .sha256', async (t) => {
  const dir = await makeTempDir(t, 'pikube-base-');
  const image = Buffer.alloc(4 * 1024 * 1024);
  randomBytes(100_000).copy(image, 512);
  await writeFile(path.join(dir, 'hypriotos-rpi-v1.12.3.img'), image);
  await execa('zip', ['-q', '-j', path.join(dir, 'h.zip'), path.join(dir, 'hypriotos-rpi-v1.12.3.img')]);
  const zip = await readFile(path.join(dir, 'h.zip'));
  const digest = createHash('sha256').update(zip).digest('hex');
  const fixture = await startFixture();
  t.teardown(() => fixture.close());
  const upstream = new URL(findCatalogEntry('hypriot')!.url);
  const prefix = `/${upstream.host}${upstream.pathname}`;
  fixture.route(prefix, serveBytes(zip));
  fixture.route(`${prefix}.sha256`, (_request, response) => response.end(`${digest}  hypriotos-rpi-v1.12.3.img.zip\n`));
  const options = { cacheDir: path.join(dir, 'cache'), mirror: fixture.base, retryDelayMs: 10 };
  const base = await acquireBase('hypriot', {}, options);
  t.is(base.sha256, digest);
  t.is(base.url, findCatalogEntry('hypriot')?.url);
  t.is(base.checksumUrl, `${base.url}.sha256`);
  t.is(base.catalog?.architecture, 'armhf');
  const written = await unpackImage(base.archivePath, path.join(dir, 'out.img'), { entry: base.entry });
  t.deepEqual(written, { bytes: image.length, format: 'zip', entry: 'hypriotos-rpi-v1.12.3.img' });
  t.true((await readFile(path.join(dir, 'out.img'))).equals(image));
  t.deepEqual(fixture.requests.map((r) => r.path), [`${prefix}.sha256`, prefix]);
  const again = await acquireBase('hypriot', {}, { ...options, offline: true });
  t.is(again.sha256, digest);
  t.true(again.fromCache);
});

test('a local base is hashed for the build record and checked against a given sha256', async (t) => {
  const dir = await makeTempDir(t, 'pikube-base-');
  const content = randomBytes(100_000);
  await writeFile(path.join(dir, 'pi.img'), content);
  const digest = createHash('sha256').update(content).digest('hex');
  const base = await acquireBase('pi.img', { baseDir: dir }, { cacheDir: path.join(dir, 'cache') });
  t.deepEqual({ kind: base.kind, archivePath: base.archivePath, sha256: base.sha256, size: base.size }, { kind: 'path', archivePath: path.join(dir, 'pi.img'), sha256: digest, size: content.length });
  await t.throwsAsync(acquireBase('pi.img', { baseDir: dir, sha256: '0'.repeat(64) }, { cacheDir: path.join(dir, 'cache') }), { instanceOf: UserError, message: new RegExp(`expected sha256 ${'0'.repeat(64)}, got ${digest}`) });
  await t.throwsAsync(acquireBase('missing.img', { baseDir: dir }, { cacheDir: path.join(dir, 'cache') }), { instanceOf: UserError, message: /does not exist/ });
});
