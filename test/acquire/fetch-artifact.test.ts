import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { InterruptedError, ToolError, UserError } from '../../src/errors.ts';
import type { AcquireOptions } from '../../src/acquire/acquire-options.ts';
import { explainDownloadError } from '../../src/acquire/download-errors.ts';
import { fetchArtifact } from '../../src/acquire/fetch-artifact.ts';
import { cutAfter, serveBytes, startFixture, type Fixture } from './helpers/http-fixture.ts';

const body = randomBytes(3 * 1024 * 1024 + 17);
const digest = createHash('sha256').update(body).digest('hex');

async function setup(t: ExecutionContext): Promise<{ fixture: Fixture; options: AcquireOptions }> {
  const fixture = await startFixture();
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'pikube-cache-'));
  t.teardown(async () => {
    await fixture.close();
    await rm(cacheDir, { recursive: true, force: true });
  });
  return { fixture, options: { cacheDir, timeoutMs: 2000, retries: 2, retryDelayMs: 20 } };
}

async function cacheFiles(cacheDir: string, sub: string): Promise<string[]> {
  return readdir(path.join(cacheDir, sub)).catch(() => []);
}

test('a good download lands in the cache under its sha256, and the second fetch makes no request', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  const first = await fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options);
  t.is(first.sha256, digest);
  t.is(first.size, body.length);
  t.is(first.path, path.join(options.cacheDir, 'blobs', 'sha256', digest));
  t.true((await readFile(first.path)).equals(body));
  t.false(first.fromCache);
  const second = await fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options);
  t.true(second.fromCache);
  t.is(fixture.requests.length, 1);
  t.deepEqual(await cacheFiles(options.cacheDir, 'partial'), []);
});

test('a checksum mismatch names both digests and leaves nothing in the cache', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  const wrong = 'ab'.repeat(32);
  const error = await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, { sha256: wrong }, options), { instanceOf: UserError });
  t.regex(error.message, new RegExp(`expected sha256 ${wrong}, got ${digest}`));
  t.deepEqual(await cacheFiles(options.cacheDir, 'partial'), []);
  t.deepEqual(await cacheFiles(options.cacheDir, 'blobs/sha256'), []);
  t.deepEqual(await cacheFiles(options.cacheDir, 'index'), []);
});

test('a connection cut mid-file resumes with a Range request for the missing bytes', async (t) => {
  const { fixture, options } = await setup(t);
  const cut = 1024 * 1024 + 5;
  const full = serveBytes(body);
  fixture.route('/img.zip', (request, response, count) => (count === 1 ? cutAfter(body, cut)(request, response, count) : full(request, response, count)));
  const result = await fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options);
  t.true((await readFile(result.path)).equals(body));
  t.is(fixture.requests.length, 2);
  t.is(fixture.requests[0]?.headers.range, undefined);
  const range = fixture.requests[1]?.headers.range;
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1]);
  t.true(resumedAt >= cut - 64 * 1024 && resumedAt <= cut, `resumed at ${range}`);
  t.is(fixture.requests[1]?.headers['if-range'], '"fixture-1"');
});

test('an interrupted run leaves a partial file that the next run resumes', async (t) => {
  const { fixture, options } = await setup(t);
  const cut = 2 * 1024 * 1024;
  fixture.route('/img.zip', (request, response, count) => (count === 1 ? cutAfter(body, cut)(request, response, count) : serveBytes(body)(request, response, count)));
  await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, { ...options, retries: 0 }), { instanceOf: ToolError });
  const partials = await cacheFiles(options.cacheDir, 'partial');
  t.is(partials.length, 1);
  const kept = (await stat(path.join(options.cacheDir, 'partial', partials[0]!))).size;
  t.true(kept > 0);
  const result = await fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options);
  t.true((await readFile(result.path)).equals(body));
  t.is(fixture.requests[1]?.headers.range, `bytes=${kept}-`);
});

test('HTTP 500 is retried with backoff and then succeeds', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', (request, response, count) => (count <= 2 ? response.writeHead(500).end('oops') : serveBytes(body)(request, response, count)));
  const result = await fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options);
  t.is(result.sha256, digest);
  t.is(fixture.requests.length, 3);
});

test('HTTP 500 that never stops is a ToolError after the retries', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', (_request, response) => response.writeHead(503).end());
  const error = await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options), { instanceOf: ToolError });
  t.regex(error.message, /HTTP 503 after 3 attempts/);
  t.is(fixture.requests.length, 3);
});

test('a 404 is a UserError naming the URL, without retries', async (t) => {
  const { fixture, options } = await setup(t);
  const url = `${fixture.base}/missing.img.zip`;
  const error = await t.throwsAsync(fetchArtifact(url, { sha256: digest }, options), { instanceOf: UserError });
  t.is(error.message, `${url} was not found (HTTP 404)`);
  t.is(fixture.requests.length, 1);
});

test('redirects are followed and the result keeps the original URL', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/latest.img.zip', (_request, response) => response.writeHead(302, { location: '/releases/v2/img.zip' }).end());
  fixture.route('/releases/v2/img.zip', serveBytes(body));
  const result = await fetchArtifact(`${fixture.base}/latest.img.zip`, { sha256: digest }, options);
  t.is(result.url, `${fixture.base}/latest.img.zip`);
  t.deepEqual(fixture.requests.map((r) => r.path), ['/latest.img.zip', '/releases/v2/img.zip']);
});

test('a server that stops sending times out, is retried, and fails clearly', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', (_request, response) => {
    response.writeHead(200, { 'content-length': body.length });
    response.write(body.subarray(0, 1000));
  });
  const started = Date.now();
  const error = await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, { ...options, timeoutMs: 150, retries: 1 }), { instanceOf: ToolError });
  t.regex(error.message, /stopped sending data \(timed out\) after 2 attempts/);
  t.true(Date.now() - started < 5000);
  t.is(fixture.requests[1]?.headers.range, 'bytes=1000-');
});

test('a mirror serves https://HOST/PATH from MIRROR/HOST/PATH, and the cache keys the original URL', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/images.example/releases/v1/img.zip', serveBytes(body));
  const url = 'https://images.example/releases/v1/img.zip';
  const result = await fetchArtifact(url, { sha256: digest }, { ...options, mirror: `${fixture.base}/` });
  t.is(result.url, url);
  t.is(result.fetchedFrom, `${fixture.base}/images.example/releases/v1/img.zip`);
  const offline = await fetchArtifact(url, { sha256: digest }, { ...options, offline: true });
  t.is(offline.path, result.path);
});

test('plain http to a non-loopback host is refused unless allowed', async (t) => {
  const { options } = await setup(t);
  const error = await t.throwsAsync(fetchArtifact('http://images.example/img.zip', { sha256: digest }, options), { instanceOf: UserError });
  t.regex(error.message, /refusing plain http/);
  t.regex(error.hint ?? '', /--allow-http/);
});

test('offline without the cache names what is missing; with the cache it needs no network', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  fixture.route('/img.zip.sha256', (_request, response) => response.end(`${digest}  img.zip\n`));
  const url = `${fixture.base}/img.zip`;
  const check = { checksumUrl: `${url}.sha256` };
  const missing = await t.throwsAsync(fetchArtifact(url, check, { ...options, offline: true }), { instanceOf: UserError });
  t.regex(missing.message, new RegExp(`offline, and the cache \\(${options.cacheDir}\\) does not hold ${url}`));
  t.is(fixture.requests.length, 0);
  const online = await fetchArtifact(url, check, options);
  t.is(online.sha256, digest);
  t.is(online.checksumUrl, `${url}.sha256`);
  await fixture.close();
  const offline = await fetchArtifact(url, check, { ...options, offline: true });
  t.is(offline.sha256, digest);
  t.true(offline.fromCache);
});

test('a checksum file that disagrees with the download is a mismatch naming both digests', async (t) => {
  const { fixture, options } = await setup(t);
  const other = 'cd'.repeat(32);
  fixture.route('/img.zip', serveBytes(body));
  fixture.route('/SHA256SUMS', (_request, response) => response.end(`${'ef'.repeat(32)}  other.zip\n${other} *img.zip\n`));
  const error = await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, { checksumUrl: `${fixture.base}/SHA256SUMS` }, options), { instanceOf: UserError });
  t.regex(error.message, new RegExp(`expected sha256 ${other}, got ${digest}`));
  t.deepEqual(await cacheFiles(options.cacheDir, 'blobs/sha256'), []);
});

test('a download without any checksum is refused', async (t) => {
  const { fixture, options } = await setup(t);
  await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, {}, options), { instanceOf: UserError, message: /only uses downloads it can verify/ });
});

test('a DNS failure (no such name, or no DNS server answering) is the network\'s failure: a ToolError naming the host', (t) => {
  for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
    const cause = Object.assign(new Error(`getaddrinfo ${code} no-such-host.invalid`), { code, hostname: 'no-such-host.invalid' });
    const error = explainDownloadError(cause, 'https://no-such-host.invalid/img.zip', 3, '/cache');
    t.true(error instanceof ToolError, code);
    t.regex(error.message, /^cannot resolve no-such-host\.invalid \(DNS lookup failed.*\) after 3 attempts for https:\/\/no-such-host\.invalid\/img\.zip$/);
    t.regex((error as ToolError).hint ?? '', /check the network connection and DNS.*--mirror URL, or --offline/);
  }
});

test('two concurrent fetches of one entry share a single download through the lock', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', (request, response, count) => setTimeout(() => serveBytes(body)(request, response, count), 300));
  const url = `${fixture.base}/img.zip`;
  const [a, b] = await Promise.all([fetchArtifact(url, { sha256: digest }, options), fetchArtifact(url, { sha256: digest }, options)]);
  t.is(a.path, b.path);
  t.true((await readFile(a.path)).equals(body));
  t.is(fixture.requests.length, 1);
  t.deepEqual([a.fromCache, b.fromCache].sort(), [false, true]);
  t.deepEqual(await cacheFiles(options.cacheDir, 'locks'), []);
});

test('Ctrl-C (the run signal) stops a download, releases the lock and keeps the partial file for later', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', (_request, response) => {
    response.writeHead(200, { 'content-length': body.length });
    response.write(body.subarray(0, 500_000));
  });
  const controller = new AbortController();
  const pending = fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, { ...options, signal: controller.signal });
  // Ctrl-C once everything the server sent is on disk, however slowly this machine gets there.
  const partialSize = async () => {
    const names = await cacheFiles(options.cacheDir, 'partial').catch(() => []);
    return names[0] ? (await stat(path.join(options.cacheDir, 'partial', names[0])).catch(() => undefined))?.size ?? 0 : 0;
  };
  for (let waited = 0; waited < 20_000 && (await partialSize()) < 500_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort(new InterruptedError());
  await t.throwsAsync(pending, { instanceOf: InterruptedError });
  t.deepEqual(await cacheFiles(options.cacheDir, 'locks'), []);
  const partials = await cacheFiles(options.cacheDir, 'partial');
  t.is((await stat(path.join(options.cacheDir, 'partial', partials[0]!))).size, 500_000);
});

const isRoot = process.getuid?.() === 0;
(isRoot ? test : test.skip)('a full disk while downloading is a UserError naming the cache (tmpfs of 1 MiB, needs root)', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', options.cacheDir]);
  t.teardown(() => execa('umount', [options.cacheDir]).then(() => undefined));
  const error = await t.throwsAsync(fetchArtifact(`${fixture.base}/img.zip`, { sha256: digest }, options), { instanceOf: UserError });
  t.is(error.message, `the disk holding the cache is full (${options.cacheDir}) while downloading ${fixture.base}/img.zip`);
  t.regex(error.hint ?? '', /--cache DIR or PIKUBE_CACHE/);
});

test('a TLS failure (self-signed certificate) is a UserError naming the host and the cause', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pikube-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  const server = createServer({ key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) }, (_request, response) => response.end('x'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const error = await t.throwsAsync(fetchArtifact(`https://127.0.0.1:${port}/img.zip`, { sha256: digest }, { cacheDir: dir, retries: 0 }), { instanceOf: UserError });
  t.regex(error.message, new RegExp(`^TLS failure talking to 127\\.0\\.0\\.1:${port}: .*self[- ]signed.* \\(DEPTH_ZERO_SELF_SIGNED_CERT\\)$`));
  t.regex(error.hint ?? '', /NODE_EXTRA_CA_CERTS/);
});

test('a mirror that is not an http(s) URL is a UserError', async (t) => {
  const { options } = await setup(t);
  await t.throwsAsync(fetchArtifact('https://images.example/img.zip', { sha256: digest }, { ...options, mirror: '127.0.0.1:8080' }), { instanceOf: UserError, message: 'the mirror 127.0.0.1:8080 is not an http(s) URL' });
});

// Flips one byte in place: same size, same inode, the bytes no longer match the name.
async function corruptInPlace(file: string, restoreTimes = false): Promise<void> {
  const { open, utimes } = await import('node:fs/promises');
  const before = await stat(file);
  const handle = await open(file, 'r+');
  const one = Buffer.alloc(1);
  await handle.read(one, 0, 1, 1000);
  one[0] = (one[0] ?? 0) ^ 0xff;
  await handle.write(one, 0, 1, 1000);
  await handle.close();
  if (restoreTimes) await utimes(file, before.atime, before.mtime);
}

test('a cached entry corrupted in place (same size) is caught on use, evicted and downloaded again', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  const url = `${fixture.base}/img.zip`;
  const first = await fetchArtifact(url, { sha256: digest }, options);
  t.true((await fetchArtifact(url, { sha256: digest }, options)).fromCache, 'an unchanged entry is used as it is');
  await corruptInPlace(first.path);
  const again = await fetchArtifact(url, { sha256: digest }, options);
  t.false(again.fromCache);
  t.is(fixture.requests.length, 2);
  t.true((await readFile(again.path)).equals(body));
});

test('an entry found through a checksum file is proven too: corrupted with its mtime set back, it is fetched again', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  fixture.route('/img.zip.sha256', serveBytes(Buffer.from(`${digest}  img.zip\n`)));
  const url = `${fixture.base}/img.zip`;
  const check = { checksumUrl: `${fixture.base}/img.zip.sha256` };
  const first = await fetchArtifact(url, check, options);
  await corruptInPlace(first.path, true);
  const again = await fetchArtifact(url, check, options);
  t.false(again.fromCache);
  t.true((await readFile(again.path)).equals(body));
  t.is(fixture.requests.filter((r) => r.path === '/img.zip').length, 2);
});

test('offline, a corrupted cached entry is refused by name with the fix, even with its mtime set back', async (t) => {
  const { fixture, options } = await setup(t);
  fixture.route('/img.zip', serveBytes(body));
  const url = `${fixture.base}/img.zip`;
  const first = await fetchArtifact(url, { sha256: digest }, options);
  await corruptInPlace(first.path, true);
  const error = await t.throwsAsync(fetchArtifact(url, { sha256: digest }, { ...options, offline: true }), { instanceOf: UserError });
  t.regex(error.message, new RegExp(`the cached copy of ${url.replaceAll('.', '\\.')} \\(${first.path}\\) is damaged: its ${body.length} bytes hash to sha256 [0-9a-f]{64}, not ${digest}`));
  t.regex(error.hint ?? '', /network access \(or a --mirror\) to download it again/);
  t.deepEqual(await cacheFiles(options.cacheDir, 'blobs/sha256'), []);
  t.is(fixture.requests.length, 1);
});
