import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { formatImageReference, parseImageReference, resolveEndpoint } from '../../src/registry/image-reference.ts';
import { selectPlatformManifest, type ImageIndex } from '../../src/registry/manifest.ts';
import { mapWithLimit } from '../../src/registry/map-limit.ts';
import { formatPlatform, parsePlatform, platformForArchitecture } from '../../src/registry/platform.ts';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.ts';

test('platforms parse, normalise and map from Debian architectures', (t) => {
  t.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  t.deepEqual(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  t.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  t.deepEqual(platformForArchitecture('armhf'), parsePlatform('linux/arm/v7'));
  t.deepEqual(platformForArchitecture('arm64'), parsePlatform('linux/arm64'));
  t.deepEqual(platformForArchitecture('armel'), parsePlatform('linux/arm/v6'));
  t.is(formatPlatform(parsePlatform('LINUX/ARM/V6')), 'linux/arm/v6');
  t.throws(() => parsePlatform('arm64'), { instanceOf: UserError, message: '"arm64" is not a platform' });
  t.throws(() => platformForArchitecture('mips'), { instanceOf: UserError });
});

test('references follow docker\'s rules: docker.io, library/, tags, digests, hosts with ports', (t) => {
  t.deepEqual(parseImageReference('alpine'), { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' });
  t.deepEqual(parseImageReference('rancher/k3s:v1.37.0-k3s1'), { registry: 'docker.io', repository: 'rancher/k3s', tag: 'v1.37.0-k3s1' });
  t.deepEqual(parseImageReference('registry.k8s.io/pause:3.10'), { registry: 'registry.k8s.io', repository: 'pause', tag: '3.10' });
  t.deepEqual(parseImageReference('127.0.0.1:5000/a/b'), { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'latest' });
  t.deepEqual(parseImageReference('localhost/app:1'), { registry: 'localhost', repository: 'app', tag: '1' });
  const digest = `sha256:${'a'.repeat(64)}`;
  t.deepEqual(parseImageReference(`ghcr.io/o/i@${digest}`), { registry: 'ghcr.io', repository: 'o/i', digest });
  t.is(formatImageReference(parseImageReference(`ghcr.io/o/i:1@${digest}`)), `ghcr.io/o/i:1@${digest}`);
  t.is(formatImageReference(parseImageReference('index.docker.io/library/alpine:3')), 'docker.io/library/alpine:3');
  t.throws(() => parseImageReference('Alpine'), { instanceOf: UserError });
  t.throws(() => parseImageReference('alpine@sha256:abc'), { instanceOf: UserError });
});

test('endpoints: docker.io goes to registry-1.docker.io over https, local registries over http, mirrors prefix the host', (t) => {
  const hub = resolveEndpoint(parseImageReference('alpine:3'));
  t.is(hub.baseUrl.toString(), 'https://registry-1.docker.io/');
  t.is(hub.repository, 'library/alpine');
  t.is(hub.credentialHost, 'docker.io');
  t.is(resolveEndpoint(parseImageReference('127.0.0.1:5000/x:1')).baseUrl.toString(), 'http://127.0.0.1:5000/');
  t.is(resolveEndpoint(parseImageReference('localhost:5000/x:1')).baseUrl.toString(), 'http://localhost:5000/');
  const mirrored = resolveEndpoint(parseImageReference('registry.k8s.io/pause:3.10'), 'https://mirror.example.invalid/cache/');
  t.is(mirrored.baseUrl.toString(), 'https://mirror.example.invalid/');
  t.is(mirrored.repository, 'cache/registry.k8s.io/pause');
  t.is(mirrored.credentialHost, 'mirror.example.invalid');
  t.is(resolveEndpoint(parseImageReference('alpine'), '127.0.0.1:5001').repository, 'docker.io/library/alpine');
  t.is(resolveEndpoint(parseImageReference('alpine'), '127.0.0.1:5001').baseUrl.protocol, 'http:');
  t.throws(() => resolveEndpoint(parseImageReference('alpine'), 'ftp://x'), { instanceOf: UserError });
});

test('WWW-Authenticate challenges parse with quoted commas and several schemes', (t) => {
  t.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.example.invalid/token",service="registry.example.invalid",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example.invalid/token', service: 'registry.example.invalid', scope: 'repository:a/b:pull,push' } },
  ]);
  t.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm", Bearer realm="x",error="invalid_token"'), [
    { scheme: 'basic', params: { realm: 'Registry Realm' } },
    { scheme: 'bearer', params: { realm: 'x', error: 'invalid_token' } },
  ]);
});

test('platform selection prefers the exact arm variant, falls back to an older one, and skips attestations', (t) => {
  const d = (platform: { os: string; architecture: string; variant?: string } | undefined, annotations?: Record<string, string>) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${JSON.stringify(platform).length.toString(16).padStart(64, '0')}`, size: 1,
    ...(platform ? { platform } : {}), ...(annotations ? { annotations } : {}),
  });
  const index: ImageIndex = { schemaVersion: 2, manifests: [
    d({ os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
    d({ os: 'linux', architecture: 'arm', variant: 'v6' }),
    d({ os: 'linux', architecture: 'arm64', variant: 'v8' }),
  ] };
  t.deepEqual(selectPlatformManifest(index, parsePlatform('linux/arm/v7'), 'x').platform, { os: 'linux', architecture: 'arm', variant: 'v6' });
  t.deepEqual(selectPlatformManifest(index, parsePlatform('linux/arm64'), 'x').platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.throws(() => selectPlatformManifest(index, parsePlatform('linux/amd64'), 'x'), { message: 'no linux/amd64 image for x: it has linux/arm/v6, linux/arm64' });
});

test('mapWithLimit keeps order and never runs more than the limit at once', async (t) => {
  let running = 0;
  let peak = 0;
  const results = await mapWithLimit([5, 1, 4, 2, 3, 0], 3, async (n) => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, n * 5));
    running -= 1;
    return n * 2;
  });
  t.deepEqual(results, [10, 2, 8, 4, 6, 0]);
  t.is(peak, 3);
  await t.throwsAsync(mapWithLimit([1, 2], 2, async (n) => { if (n === 2) throw new Error('two'); return n; }), { message: 'two' });
});
