import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { downloadToFile } from '../../src/acquire/http-download.ts';
import { InterruptedError, ToolError, UserError } from '../../src/errors.ts';
import { blobPath, hasBlob } from '../../src/registry/blob-store.ts';
import { writeImageTarball } from '../../src/registry/image-tarball.ts';
import { parsePlatform } from '../../src/registry/platform.ts';
import { pullImage } from '../../src/registry/pull-image.ts';
import { RegistryClient } from '../../src/registry/registry-client.ts';
import { startFixture as startHttpFixture, type Route } from '../acquire/helpers/http-fixture.ts';
import { startFixture, type RegistryFixture } from './helpers/fixture.ts';
import { startProxy } from './helpers/proxy.ts';
import { readLayoutBlob } from './helpers/test-image.ts';

const test = anyTest as TestFn<{ fixture: RegistryFixture }>;

// Damages a cached blob in place: one bit of one byte, the size unchanged.
async function flipCachedByte(cacheDir: string, digest: string): Promise<void> {
  const bytes = await readFile(blobPath(cacheDir, digest));
  bytes[10] = (bytes[10] ?? 0) ^ 0x01;
  await writeFile(blobPath(cacheDir, digest), bytes);
}

test.before(async (t) => {
  t.context.fixture = await startFixture({ token: true });
});
test.after.always(async (t) => {
  await t.context.fixture?.stop();
});

test('a blob changed on the way is refused, and nothing of it stays in the cache', async (t) => {
  const { fixture } = t.context;
  const target = fixture.imageFor('linux/arm64').layerDigests[1] ?? '';
  const proxy = await startProxy(fixture.open.url, { tamperDigest: target });
  t.teardown(() => proxy.stop());
  const cacheDir = await fixture.makeCacheDir();
  const error = await t.throwsAsync(pullImage(`${proxy.host}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig }), { instanceOf: ToolError });
  t.regex(error?.message ?? '', new RegExp(`^digest mismatch for ${target}: the bytes from GET http://${proxy.host}/v2/test/app/blobs/${target} hash to sha256:[a-f0-9]{64}$`));
  t.false(await hasBlob(cacheDir, target));
  t.deepEqual(await readdir(join(cacheDir, 'tmp')), []);
});

test('a corrupted cached blob is caught when the tarball is written, discarded, and fetched again by the next pull', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const ref = `${fixture.open.host}/test/app:1`;
  const options = { platform: parsePlatform('linux/arm/v7'), cacheDir, dockerConfigPath: fixture.noDockerConfig };
  const pulled = await pullImage(ref, options);
  const layer = pulled.layers[1]?.digest ?? '';
  await flipCachedByte(cacheDir, layer);
  const output = join(fixture.root, 'corrupt.tar');
  await t.throwsAsync(writeImageTarball(pulled, output), { instanceOf: ToolError, message: new RegExp(`^digest mismatch for ${layer}: the bytes from the cache`) });
  t.false(await hasBlob(cacheDir, layer));
  await t.throwsAsync(readFile(output), { code: 'ENOENT' });
  const again = await pullImage(ref, options);
  await writeImageTarball(again, output);
  t.deepEqual(await readFile(blobPath(cacheDir, layer)), await readLayoutBlob(fixture.image.layoutDir, layer));
});

test('a download cut mid-way resumes with a Range request from where it stopped', async (t) => {
  const { fixture } = t.context;
  const target = fixture.imageFor('linux/amd64').layerDigests[1] ?? '';
  const proxy = await startProxy(fixture.open.url, { cut: { digest: target, afterBytes: 100 } });
  t.teardown(() => proxy.stop());
  const cacheDir = await fixture.makeCacheDir();
  const pulled = await pullImage(`${proxy.host}/test/app:1`, { platform: parsePlatform('linux/amd64'), cacheDir, dockerConfigPath: fixture.noDockerConfig });
  const gets = proxy.seen.filter((r) => r.path.endsWith(`/blobs/${target}`));
  t.is(gets.length, 2);
  t.is(gets[0]?.headers.range, undefined);
  t.is(gets[1]?.headers.range, 'bytes=100-');
  t.deepEqual(await readFile(blobPath(cacheDir, target)), await readLayoutBlob(fixture.image.layoutDir, target));
  t.deepEqual(pulled.layers.map((l) => l.digest), fixture.imageFor('linux/amd64').layerDigests);
});

test('a registry blob and an HTTP download retry the same failures the same number of times (one retry policy)', async (t) => {
  const server = await startHttpFixture();
  t.teardown(() => server.close());
  const body = randomBytes(64 * 1024);
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const blobPath = `/v2/test/app/blobs/${digest}`;
  server.route('/v2/', (_request, response) => response.writeHead(200).end('{}'));
  // What the server does to every request for the file, the same for both clients.
  const faults: Record<string, Route> = {
    'reset before answering': (request) => request.socket.destroy(),
    'cut after the headers': (_request, response) => {
      response.writeHead(200, { 'content-length': String(body.length) });
      response.flushHeaders();
      setTimeout(() => response.socket?.destroy(), 20);
    },
    'HTTP 503': (_request, response) => response.writeHead(503).end('busy'),
    'HTTP 429': (_request, response) => response.writeHead(429).end('slow down'),
    'HTTP 501 (not transient)': (_request, response) => response.writeHead(501).end('no'),
    'HTTP 404 (not transient)': (_request, response) => response.writeHead(404).end('gone'),
  };
  const settings = { retries: 2, retryDelayMs: 10 };
  const endpoint = { baseUrl: new URL(server.base), repository: 'test/app', credentialHost: new URL(server.base).host };
  for (const [fault, route] of Object.entries(faults)) {
    server.route('/file', route);
    server.route(blobPath, route);
    const cacheDir = await t.context.fixture.makeCacheDir();
    const count = (path: string) => server.requests.filter((r) => r.path === path).length;
    const [fileBefore, blobBefore] = [count('/file'), count(blobPath)];
    const http = await downloadToFile(`${server.base}/file`, join(cacheDir, 'file.part'), { label: 'file', cacheDir, ...settings }).then(() => undefined, (error: unknown) => error);
    const registry = await new RegistryClient({ endpoint, ...settings }).downloadBlob({ mediaType: 'application/octet-stream', digest, size: body.length }, cacheDir).then(() => undefined, (error: unknown) => error);
    const expected = fault.includes('not transient') ? 1 : settings.retries + 1;
    t.is(count('/file') - fileBefore, expected, `${fault}: HTTP download requests`);
    t.is(count(blobPath) - blobBefore, expected, `${fault}: registry blob requests`);
    t.true(http instanceof Error && registry instanceof ToolError, `${fault}: both fail (${String(http)} / ${String(registry)})`);
  }
  server.route('/file', serveOnce(body));
  server.route(blobPath, serveOnce(body));
  const cacheDir = await t.context.fixture.makeCacheDir();
  const fetched = await downloadToFile(`${server.base}/file`, join(cacheDir, 'file.part'), { label: 'file', cacheDir, ...settings });
  t.is(`sha256:${fetched.sha256}`, digest, 'after a cut that made progress the HTTP download resumes and completes');
  await new RegistryClient({ endpoint, ...settings }).downloadBlob({ mediaType: 'application/octet-stream', digest, size: body.length }, cacheDir);
  t.true(await hasBlob(cacheDir, digest), 'and so does the registry blob');
});

// Sends half the body and cuts the first time, then answers Range requests: a failure that made progress.
function serveOnce(body: Buffer): Route {
  return (request, response, count) => {
    if (count === 1 || !request.headers.range) {
      response.writeHead(200, { 'content-length': String(body.length) });
      response.write(body.subarray(0, body.length / 2));
      setTimeout(() => response.socket?.destroy(), 20);
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range)?.[1] ?? 0);
    response.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': String(body.length - start) }).end(body.subarray(start));
  };
}

test('a partial file left by an interrupted run is resumed by the next run', async (t) => {
  const { fixture } = t.context;
  const target = fixture.imageFor('linux/arm64').layerDigests[1] ?? '';
  const cacheDir = await fixture.makeCacheDir();
  const whole = await readLayoutBlob(fixture.image.layoutDir, target);
  await mkdir(join(cacheDir, 'tmp'), { recursive: true });
  await writeFile(join(cacheDir, 'tmp', `${target.slice(7)}.partial`), whole.subarray(0, 57));
  const proxy = await startProxy(fixture.open.url);
  t.teardown(() => proxy.stop());
  await pullImage(`${proxy.host}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig });
  t.deepEqual(proxy.seen.filter((r) => r.path.endsWith(`/blobs/${target}`)).map((r) => r.headers.range), ['bytes=57-']);
  t.deepEqual(await readFile(blobPath(cacheDir, target)), whole);
});

test('a blob redirect to another host does not carry the registry token there', async (t) => {
  const { fixture } = t.context;
  const storage = await startProxy(fixture.open.url, {}, 'localhost');
  t.teardown(() => storage.stop());
  const front = await startProxy(fixture.token?.registry.url ?? '', { redirectBlobsTo: storage.url });
  t.teardown(() => front.stop());
  const cacheDir = await fixture.makeCacheDir();
  const pulled = await pullImage(`${front.host}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig });
  t.is(pulled.config.digest, fixture.imageFor('linux/arm64').configDigest);
  const manifestGets = front.seen.filter((r) => r.path.includes('/manifests/'));
  t.true(manifestGets.length > 0 && manifestGets.every((r) => r.headers.authorization?.startsWith('Bearer ')));
  const redirected = storage.seen.filter((r) => r.path.includes('/blobs/'));
  t.is(redirected.length, 3);
  t.true(redirected.every((r) => r.headers.authorization === undefined));
});

test('an interrupted pull or tarball write stops with InterruptedError and leaves no output behind', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const options = { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig };
  const aborted = new AbortController();
  aborted.abort(new InterruptedError());
  await t.throwsAsync(pullImage(`${fixture.open.host}/test/app:1`, { ...options, signal: aborted.signal }), { instanceOf: InterruptedError });
  const pulled = await pullImage(`${fixture.open.host}/test/app:1`, options);
  const outDir = join(fixture.root, 'interrupted');
  await mkdir(outDir);
  await t.throwsAsync(writeImageTarball(pulled, join(outDir, 'x.tar'), { signal: aborted.signal }), { instanceOf: InterruptedError });
  t.deepEqual(await readdir(outDir), []);
});

test('a cached layer corrupted in place (same size) is proven bad by the next pull and fetched again before use', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const proxy = await startProxy(fixture.open.url);
  t.teardown(() => proxy.stop());
  const ref = `${proxy.host}/test/app:1`;
  const options = { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig };
  const pulled = await pullImage(ref, options);
  const layer = pulled.layers[1]?.digest ?? '';
  const gets = () => proxy.seen.filter((r) => r.path.endsWith(`/blobs/${layer}`)).length;
  await pullImage(ref, options);
  t.is(gets(), 1, 'an unchanged layer is not fetched again');
  await flipCachedByte(cacheDir, layer);
  await pullImage(ref, options);
  t.is(gets(), 2);
  t.deepEqual(await readFile(blobPath(cacheDir, layer)), await readLayoutBlob(fixture.image.layoutDir, layer));
});

test('offline, a cached layer found damaged is removed and named as the reason, not reported as never pulled', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const ref = `${fixture.open.host}/test/app:1`;
  const options = { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig };
  const pulled = await pullImage(ref, options);
  const layer = pulled.layers[0]?.digest ?? '';
  await flipCachedByte(cacheDir, layer);
  const error = await t.throwsAsync(pullImage(ref, { ...options, offline: true }), { instanceOf: UserError });
  t.is(error?.message, `${ref} for linux/arm64 cannot be used offline: its blob ${layer} in the cache ${cacheDir} was damaged and has been removed`);
  t.regex((error as UserError).hint ?? '', /pull it again online/);
  t.false(await hasBlob(cacheDir, layer));
  t.truthy(await pullImage(ref, options), 'online, the same cache is mended by the next pull');
});
