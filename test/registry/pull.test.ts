import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { execa } from 'execa';
import { UserError } from '../../src/errors.ts';
import { blobPath } from '../../src/registry/blob-store.ts';
import { writeImageTarball } from '../../src/registry/image-tarball.ts';
import { parsePlatform } from '../../src/registry/platform.ts';
import { pullImage } from '../../src/registry/pull-image.ts';
import { startFixture, type RegistryFixture } from './helpers/fixture.ts';
import { startProxy } from './helpers/proxy.ts';
import { readLayoutBlob } from './helpers/test-image.ts';

const test = anyTest as TestFn<{ fixture: RegistryFixture }>;

test.before(async (t) => {
  t.context.fixture = await startFixture();
});
test.after.always(async (t) => {
  await t.context.fixture?.stop();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

for (const platform of ['linux/amd64', 'linux/arm64', 'linux/arm/v7']) {
  test(`pulls the ${platform} config and layers from the OCI index`, async (t) => {
    const { fixture } = t.context;
    const cacheDir = await fixture.makeCacheDir();
    const expected = fixture.imageFor(platform);
    const pulled = await pullImage(`${fixture.open.host}/test/app:1`, { platform: parsePlatform(platform), cacheDir, dockerConfigPath: fixture.noDockerConfig });
    t.is(pulled.manifest.digest, expected.manifestDigest);
    t.is(pulled.config.digest, expected.configDigest);
    t.deepEqual(pulled.layers.map((l) => l.digest), expected.layerDigests);
    t.is(pulled.name, `${fixture.open.host}/test/app:1`);
    for (const digest of [pulled.config.digest, ...pulled.layers.map((l) => l.digest)]) {
      t.deepEqual(await readFile(blobPath(cacheDir, digest)), await readLayoutBlob(fixture.image.layoutDir, digest));
    }
    const config = JSON.parse(await readFile(blobPath(cacheDir, pulled.config.digest), 'utf8')) as { architecture: string };
    t.is(config.architecture, platform.split('/')[1] ?? '');
  });
}

test('reads a Docker schema 2 manifest list and Docker manifests', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const pulled = await pullImage(`${fixture.open.host}/test/app:docker`, { platform: parsePlatform('linux/arm64'), cacheDir, dockerConfigPath: fixture.noDockerConfig });
  t.is(pulled.manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  t.is(pulled.manifest.digest, fixture.dockerDigests.get('linux/arm64') ?? '');
  t.is(pulled.config.digest, fixture.imageFor('linux/arm64').configDigest);
  const tarball = join(fixture.root, 'docker-typed.tar');
  await writeImageTarball(pulled, tarball);
  const inspected = JSON.parse((await execa('skopeo', ['inspect', `docker-archive:${tarball}`])).stdout) as { Architecture: string };
  t.is(inspected.Architecture, 'arm64');
});

test('a missing platform fails naming the platforms that exist, never the attestation', async (t) => {
  const { fixture } = t.context;
  const error = await t.throwsAsync(pullImage(`${fixture.open.host}/test/app:1`, { platform: parsePlatform('linux/arm/v6'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig }), { instanceOf: UserError });
  t.is(error?.message, `no linux/arm/v6 image for ${fixture.open.host}/test/app:1: it has linux/amd64, linux/arm64, linux/arm/v7`);
  await t.throwsAsync(pullImage(`${fixture.open.host}/test/app:1`, { platform: parsePlatform('unknown/unknown'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig }), { message: /no unknown\/unknown image .*: it has linux\/amd64, linux\/arm64, linux\/arm\/v7$/ });
});

test('a single-platform image pulled by digest is checked against the asked platform', async (t) => {
  const { fixture } = t.context;
  const arm64 = fixture.imageFor('linux/arm64');
  const ref = `${fixture.open.host}/test/app@${arm64.manifestDigest}`;
  const pulled = await pullImage(ref, { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig });
  t.is(pulled.config.digest, arm64.configDigest);
  t.is(pulled.name, ref);
  await t.throwsAsync(pullImage(ref, { platform: parsePlatform('linux/amd64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig }), {
    instanceOf: UserError, message: `no linux/amd64 image for ${ref}: it is a single-platform image for linux/arm64`,
  });
});

test('the tarball is read back by skopeo as docker-archive and oci-archive, and has the same bytes every time', async (t) => {
  const { fixture } = t.context;
  const expected = fixture.imageFor('linux/arm/v7');
  const ref = `${fixture.open.host}/test/app:1`;
  const pulled = await pullImage(ref, { platform: parsePlatform('linux/arm/v7'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig });
  const first = join(fixture.root, 'armv7-a.tar');
  const second = join(fixture.root, 'armv7-b.tar');
  const written = await writeImageTarball(pulled, first);
  const firstBytes = await readFile(first);
  t.deepEqual([written.size, written.sha256], [firstBytes.length, sha256(firstBytes)], 'the digest reported is that of the file written');
  const again = await pullImage(ref, { platform: parsePlatform('linux/arm/v7'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig });
  await writeImageTarball(again, second);
  t.is(sha256(await readFile(first)), sha256(await readFile(second)));

  const oci = JSON.parse((await execa('skopeo', ['inspect', `oci-archive:${first}`])).stdout) as { Digest: string; Architecture: string; Layers: string[] };
  t.is(oci.Digest, expected.manifestDigest);
  t.is(oci.Architecture, 'arm');
  t.deepEqual(oci.Layers, expected.layerDigests);
  const docker = JSON.parse((await execa('skopeo', ['inspect', '--config', `docker-archive:${first}`])).stdout) as { architecture: string; variant?: string };
  t.is(docker.architecture, 'arm');
  t.is(docker.variant, 'v7');
  const dockerManifest = JSON.parse((await execa('tar', ['-xOf', first, 'manifest.json'])).stdout) as unknown;
  t.deepEqual(dockerManifest, [{ Config: `blobs/sha256/${expected.configDigest.slice(7)}`, RepoTags: [ref], Layers: expected.layerDigests.map((d) => `blobs/sha256/${d.slice(7)}`) }]);

  const listing = (await execa('tar', ['-tvf', first], { env: { TZ: 'UTC' } })).stdout.split('\n');
  t.deepEqual(listing.map((line) => line.split(/\s+/).at(-1)), [
    'blobs/', 'blobs/sha256/', ...[expected.manifestDigest, expected.configDigest, ...expected.layerDigests].map((d) => `blobs/sha256/${d.slice(7)}`).sort(),
    'index.json', 'manifest.json', 'oci-layout',
  ]);
  t.true(listing.every((line) => line.includes(' 0/0 ') && line.includes('1970-01-01 00:00')), listing.join('\n'));
  const index = JSON.parse((await execa('tar', ['-xOf', first, 'index.json'])).stdout) as { manifests: { annotations: Record<string, string> }[] };
  t.deepEqual(index.manifests[0]?.annotations, { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': '1' });
});

test('SOURCE_DATE_EPOCH-style mtime is stamped on every entry', async (t) => {
  const { fixture } = t.context;
  const pulled = await pullImage(`${fixture.open.host}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig });
  const path = join(fixture.root, 'epoch.tar');
  await writeImageTarball(pulled, path, { mtime: 1_700_000_000 });
  const listing = (await execa('tar', ['-tvf', path], { env: { TZ: 'UTC' } })).stdout.split('\n');
  t.true(listing.every((line) => line.includes('2023-11-14 22:13')), listing.join('\n'));
});

test('blobs are shared between images in one cache, a warm pull fetches only manifests, and --offline needs no registry', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const proxy = await startProxy(fixture.open.url);
  t.teardown(() => proxy.stop());
  const ref = `${proxy.host}/test/app:1`;
  const options = { cacheDir, dockerConfigPath: fixture.noDockerConfig };
  await pullImage(ref, { ...options, platform: parsePlatform('linux/arm64') });
  const blobGets = () => proxy.seen.filter((r) => r.path.includes('/blobs/')).map((r) => r.path.split('/').at(-1));
  t.true(blobGets().includes(fixture.image.sharedLayerDigest));
  proxy.seen.length = 0;
  await pullImage(ref, { ...options, platform: parsePlatform('linux/arm/v7') });
  t.false(blobGets().includes(fixture.image.sharedLayerDigest), 'the shared base layer came from the cache');
  t.true(blobGets().includes(fixture.imageFor('linux/arm/v7').layerDigests[1]));
  proxy.seen.length = 0;
  await pullImage(ref, { ...options, platform: parsePlatform('linux/arm/v7') });
  t.deepEqual(blobGets(), []);
  t.true(proxy.seen.some((r) => r.path.endsWith('/manifests/1')));
  proxy.seen.length = 0;
  const offline = await pullImage(ref, { ...options, platform: parsePlatform('linux/arm/v7'), offline: true });
  t.is(proxy.seen.length, 0);
  t.is(offline.manifest.digest, fixture.imageFor('linux/arm/v7').manifestDigest);
  await t.throwsAsync(pullImage(ref, { ...options, platform: parsePlatform('linux/amd64'), offline: true }), {
    instanceOf: UserError, message: `${ref} for linux/amd64 is not in the cache ${cacheDir}`,
  });
});

test('registryMirror pulls HOST/REPO:TAG as MIRROR/HOST/REPO:TAG and keeps the original name', async (t) => {
  const { fixture } = t.context;
  const pulled = await pullImage('example.invalid/test/app:1', { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), registryMirror: fixture.open.url, dockerConfigPath: fixture.noDockerConfig });
  t.is(pulled.name, 'example.invalid/test/app:1');
  t.is(pulled.manifest.digest, fixture.imageFor('linux/arm64').manifestDigest);
});

test('pikube pull writes the tarball and exits 1 with the platform list when the platform is missing', async (t) => {
  const { fixture } = t.context;
  const cacheDir = await fixture.makeCacheDir();
  const output = join(fixture.root, 'cli.tar');
  const env = { DOCKER_CONFIG: join(fixture.root, 'no-docker-config') };
  const ok = await execa('npx', ['tsx', 'src/cli.ts', 'pull', `${fixture.open.host}/test/app:1`, '--platform', 'linux/arm64', '-o', output, '--cache', cacheDir], { reject: false, env });
  t.is(ok.exitCode, 0, ok.stderr);
  t.is(ok.stdout.trim(), output);
  const oci = JSON.parse((await execa('skopeo', ['inspect', `oci-archive:${output}`])).stdout) as { Architecture: string };
  t.is(oci.Architecture, 'arm64');
  const missing = await execa('npx', ['tsx', 'src/cli.ts', 'pull', `${fixture.open.host}/test/app:1`, '--platform', 'linux/arm/v6', '-o', output, '--cache', cacheDir], { reject: false, env });
  t.is(missing.exitCode, 1);
  t.regex(missing.stderr, /error: no linux\/arm\/v6 image for .*: it has linux\/amd64, linux\/arm64, linux\/arm\/v7/);
});
