import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushDockerManifestList, startRegistry, seedWithSkopeo, type RunningRegistry } from './registry-server.ts';
import { buildTestImage, type BuiltImage, type BuiltPlatformImage } from './test-image.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

export interface RegistryFixture {
  root: string;
  image: BuiltImage;
  // Platform → digest of the Docker schema 2 manifest behind test/app:docker.
  dockerDigests: Map<string, string>;
  // The open registry, seeded with test/app:1 (OCI index), test/app:docker (Docker list) and example.invalid/test/app:1 (the mirror layout).
  open: RunningRegistry;
  // The same storage behind token auth (plus private/app:1, which needs a login), when asked for.
  token?: { registry: RunningRegistry; server: TokenServer };
  makeCacheDir(): Promise<string>;
  // What the test image holds for one platform.
  imageFor(platform: string): BuiltPlatformImage;
  // A docker config path that does not exist, so tests never read the machine's own logins.
  noDockerConfig: string;
  stop(): Promise<void>;
}

// One registry (plus optionally its token-auth twin on the same storage) per test file, seeded by skopeo.
export async function startFixture(options: { token?: boolean; allowAnonymous?: boolean } = {}): Promise<RegistryFixture> {
  const root = await mkdtemp(join(tmpdir(), 'pikube-registry-test-'));
  const storage = join(root, 'storage');
  await mkdir(storage);
  const stops: (() => Promise<void>)[] = [];
  try {
    const image = await buildTestImage(root);
    const open = await startRegistry(root, storage);
    stops.push(() => open.stop());
    await seedWithSkopeo(image.layoutDir, '1', `${open.host}/test/app:1`);
    await seedWithSkopeo(image.layoutDir, '1', `${open.host}/example.invalid/test/app:1`);
    const dockerDigests = await pushDockerManifestList(open.url, 'test/app', 'docker', image.layoutDir, image.platforms);
    let token: RegistryFixture['token'];
    if (options.token) {
      const server = await startTokenServer(root, { allowAnonymous: options.allowAnonymous ?? true });
      stops.push(() => server.stop());
      await seedWithSkopeo(image.layoutDir, '1', `${open.host}/private/app:1`);
      const registry = await startRegistry(root, storage, server);
      stops.push(() => registry.stop());
      token = { registry, server };
    }
    let caches = 0;
    return {
      root, image, dockerDigests, open, ...(token ? { token } : {}),
      noDockerConfig: join(root, 'no-docker-config.json'),
      imageFor(platform: string) {
        const found = image.platforms.find((p) => p.platform === platform);
        if (!found) throw new Error(`the test image has no ${platform}`);
        return found;
      },
      async makeCacheDir() {
        caches += 1;
        const dir = join(root, `cache-${caches}`);
        await mkdir(dir);
        return dir;
      },
      async stop() {
        for (const stop of stops.reverse()) await stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
