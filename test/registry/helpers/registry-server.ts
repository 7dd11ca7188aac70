import { createHash, randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';

export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export interface RunningRegistry {
  host: string;
  url: string;
  stop(): Promise<void>;
}

// A free TCP port on 127.0.0.1 (asked from the kernel, then released for the server to take).
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// Debian's docker-registry (distribution 2.8) on 127.0.0.1, storing in storageDir, open or behind token auth.
export async function startRegistry(workDir: string, storageDir: string, auth?: TokenAuthConfig): Promise<RunningRegistry> {
  const port = await findFreePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    ...(auth ? [
      'auth:',
      '  token:',
      `    realm: ${auth.realm}`,
      `    service: ${auth.service}`,
      `    issuer: ${auth.issuer}`,
      `    rootcertbundle: ${auth.rootCertBundle}`,
    ] : []),
  ].join('\n');
  const configPath = join(workDir, `registry-${port}.yml`);
  await writeFile(configPath, `${config}\n`);
  const child: ResultPromise = execa('docker-registry', ['serve', configPath], { reject: false, stdout: 'ignore', stderr: 'pipe' });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      const response = await fetch(`${url}/v2/`);
      if (response.status === 200 || response.status === 401) break;
    } catch {
      if (child.exitCode !== null || i > 100) {
        child.kill();
        throw new Error(`docker-registry did not start: ${stderr}`);
      }
    }
    await delay(100);
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}

// Pushes every platform of an OCI layout to the registry with skopeo.
export async function seedWithSkopeo(layoutDir: string, tag: string, destination: string): Promise<void> {
  await execa('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layoutDir}:${tag}`, `docker://${destination}`]);
}

// Pushes Docker schema 2 copies of the layout's platform manifests and a Docker manifest list tagged `tag`,
// by plain HTTP PUTs (the blobs are already in the repository from the OCI push).
export async function pushDockerManifestList(registryUrl: string, repository: string, tag: string, layoutDir: string, platforms: { platform: string; configDigest: string; layerDigests: string[] }[]): Promise<Map<string, string>> {
  const size = async (digest: string) => (await stat(join(layoutDir, 'blobs', 'sha256', digest.slice(7)))).size;
  const digests = new Map<string, string>();
  const entries: object[] = [];
  for (const image of platforms) {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: await size(image.configDigest), digest: image.configDigest },
      layers: await Promise.all(image.layerDigests.map(async (digest) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: await size(digest), digest }))),
    });
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    await putManifest(registryUrl, repository, digest, 'application/vnd.docker.distribution.manifest.v2+json', manifest);
    const [os, architecture, variant] = image.platform.split('/');
    entries.push({ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', size: Buffer.byteLength(manifest), digest, platform: { architecture, os, ...(variant ? { variant } : {}) } });
    digests.set(image.platform, digest);
  }
  const list = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: entries });
  await putManifest(registryUrl, repository, tag, 'application/vnd.docker.distribution.manifest.list.v2+json', list);
  return digests;
}

async function putManifest(registryUrl: string, repository: string, reference: string, mediaType: string, body: string): Promise<void> {
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body });
  if (response.status !== 201) throw new Error(`PUT manifest ${reference}: ${response.status} ${await response.text()}`);
}
