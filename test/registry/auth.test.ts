import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { UserError } from '../../src/errors.ts';
import { defaultDockerConfigPath, findCredentials } from '../../src/registry/docker-credentials.ts';
import { parsePlatform } from '../../src/registry/platform.ts';
import { pullImage } from '../../src/registry/pull-image.ts';
import { startFixture, type RegistryFixture } from './helpers/fixture.ts';
import { startProxy } from './helpers/proxy.ts';

const test = anyTest as TestFn<{ fixture: RegistryFixture; tokenHost: string }>;

test.before(async (t) => {
  t.context.fixture = await startFixture({ token: true });
  t.context.tokenHost = t.context.fixture.token?.registry.host ?? '';
});
test.after.always(async (t) => {
  await t.context.fixture?.stop();
});

async function writeDockerConfig(fixture: RegistryFixture, name: string, auths: Record<string, object>): Promise<string> {
  const dir = join(fixture.root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }));
  return join(dir, 'config.json');
}

const basic = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });

test('an anonymous Bearer token is fetched from the realm the registry names, scoped to the repository', async (t) => {
  const { fixture, tokenHost } = t.context;
  const pulled = await pullImage(`${tokenHost}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig });
  t.is(pulled.config.digest, fixture.imageFor('linux/arm64').configDigest);
  t.true(fixture.token?.server.requests.some((r) => r.scope === 'repository:test/app:pull' && r.user === undefined));
});

test('credentials from the docker config are sent to the token service', async (t) => {
  const { fixture, tokenHost } = t.context;
  const dockerConfigPath = await writeDockerConfig(fixture, 'alice', { [tokenHost]: basic('alice', 'wonderland') });
  const pulled = await pullImage(`${tokenHost}/private/app:1`, { platform: parsePlatform('linux/arm/v7'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath });
  t.is(pulled.config.digest, fixture.imageFor('linux/arm/v7').configDigest);
  t.true(fixture.token?.server.requests.some((r) => r.scope === 'repository:private/app:pull' && r.user === 'alice'));
});

test('a private repository without credentials fails naming the fix', async (t) => {
  const { fixture, tokenHost } = t.context;
  await t.throwsAsync(pullImage(`${tokenHost}/private/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig }), {
    instanceOf: UserError, message: `the token service ${fixture.token?.server.realm} refused an anonymous token for private/app (401)`,
  });
});

test('wrong credentials fail clearly, naming the user and where they came from', async (t) => {
  const { fixture, tokenHost } = t.context;
  const dockerConfigPath = await writeDockerConfig(fixture, 'wrong', { [`https://${tokenHost}`]: basic('alice', 'not-her-password') });
  const error = await t.throwsAsync(pullImage(`${tokenHost}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath }), { instanceOf: UserError });
  t.is(error?.message, `the token service ${fixture.token?.server.realm} rejected the credentials of "alice" from ${dockerConfigPath} (auths["https://${tokenHost}"]) (401)`);
  t.regex((error as UserError).hint ?? '', /docker login/);
});

test('a token the registry does not trust fails clearly after one retry', async (t) => {
  const { fixture, tokenHost } = t.context;
  const dockerConfigPath = await writeDockerConfig(fixture, 'mallory', { [tokenHost]: basic('mallory', 'forged') });
  const before = fixture.token?.server.requests.filter((r) => r.user === 'mallory').length ?? 0;
  const error = await t.throwsAsync(pullImage(`${tokenHost}/test/app:1`, { platform: parsePlatform('linux/arm64'), cacheDir: await fixture.makeCacheDir(), dockerConfigPath }), { instanceOf: UserError });
  t.is(error?.message, `${tokenHost} rejected the token from ${fixture.token?.server.realm} for test/app (401: invalid_token)`);
  t.is((fixture.token?.server.requests.filter((r) => r.user === 'mallory').length ?? 0) - before, 2);
});

test('a registry behind Basic auth takes the docker config credentials; without or with wrong ones it fails clearly', async (t) => {
  const { fixture } = t.context;
  const proxy = await startProxy(fixture.open.url, { basic: { user: 'bob', password: 'builder' } });
  t.teardown(() => proxy.stop());
  const ref = `${proxy.host}/test/app:1`;
  const platform = parsePlatform('linux/arm64');
  await t.throwsAsync(pullImage(ref, { platform, cacheDir: await fixture.makeCacheDir(), dockerConfigPath: fixture.noDockerConfig }), {
    instanceOf: UserError, message: `${proxy.host} needs a user name and password`,
  });
  const good = await writeDockerConfig(fixture, 'bob', { [proxy.host]: basic('bob', 'builder') });
  const pulled = await pullImage(ref, { platform, cacheDir: await fixture.makeCacheDir(), dockerConfigPath: good });
  t.is(pulled.config.digest, fixture.imageFor('linux/arm64').configDigest);
  t.true(proxy.seen.filter((r) => r.path.includes('/blobs/')).every((r) => r.headers.authorization === `Basic ${Buffer.from('bob:builder').toString('base64')}`));
  const bad = await writeDockerConfig(fixture, 'bob-wrong', { [proxy.host]: { username: 'bob', password: 'nope' } });
  await t.throwsAsync(pullImage(ref, { platform, cacheDir: await fixture.makeCacheDir(), dockerConfigPath: bad }), {
    instanceOf: UserError, message: `${proxy.host} rejected the credentials from ${bad} (auths["${proxy.host}"]) for test/app (401: UNAUTHORIZED authentication required)`,
  });
});

test.serial('DOCKER_CONFIG names the directory of config.json; docker.io logins are found under the index.docker.io key', async (t) => {
  const { fixture } = t.context;
  const saved = process.env.DOCKER_CONFIG;
  t.teardown(() => {
    if (saved === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = saved;
  });
  const path = await writeDockerConfig(fixture, 'env', { 'https://index.docker.io/v1/': basic('carol', 'p:ss') });
  process.env.DOCKER_CONFIG = join(fixture.root, 'env');
  t.is(defaultDockerConfigPath(), path);
  t.deepEqual(await findCredentials('docker.io'), { username: 'carol', password: 'p:ss', source: `${path} (auths["https://index.docker.io/v1/"])` });
  t.is(await findCredentials('ghcr.io'), undefined);
});
