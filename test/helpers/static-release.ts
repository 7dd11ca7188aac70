import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { elfHeader } from '../../examples/make-demo-base.ts';
import type { ExecutionContext } from 'ava';
import { resolveStaticRelease, type StaticRelease } from '../../src/acquire/static-release.ts';
import { startFixture, type RegistryFixture } from '../registry/helpers/fixture.ts';
import { seedWithSkopeo } from '../registry/helpers/registry-server.ts';
import { makeBase } from './image.ts';
import { startMirror, type Mirror } from './mirror.ts';

export interface FakeStaticRelease {
  files: Map<string, Buffer>;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const binary = (name: string) => Buffer.concat([elfHeader('arm64'), Buffer.from(`stand-in ${name}\n`.repeat(64))]);

async function tarGz(files: Record<string, Buffer>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'pikube-static-release-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, 'root', path, '..'), { recursive: true });
      await writeFile(join(dir, 'root', path), content, { mode: path.endsWith('LICENSE') ? 0o644 : 0o755 });
    }
    await execa('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', join(dir, 'out.tgz'), '-C', join(dir, 'root'), ...Object.keys(files).map((p) => `./${p}`)]);
    return await readFile(join(dir, 'out.tgz'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Serves the static profile's downloads on the test mirror in each project's own format: dl.k8s.io's bare
// `.sha256`, containerd's `.sha256sum`, runc's `runc.sha256sum` listing every architecture, the CNI `.sha256`.
// The binaries are stand-ins (an arm64 ELF header, nothing runnable), the archives real gzip tarballs.
export async function serveStaticRelease(mirror: Mirror, release: StaticRelease): Promise<FakeStaticRelease> {
  const files = new Map<string, Buffer>();
  for (const download of release.downloads) {
    let body: Buffer;
    if (download.role === 'containerd') {
      body = await tarGz({ 'bin/containerd': binary('containerd'), 'bin/ctr': binary('ctr'), 'bin/containerd-shim-runc-v2': binary('shim') });
    } else if (download.role === 'cni-plugins') {
      body = await tarGz({ bridge: binary('bridge'), 'host-local': binary('host-local'), loopback: binary('loopback'), portmap: binary('portmap'), LICENSE: Buffer.from('Apache-2.0\n') });
    } else {
      body = binary(download.name);
    }
    files.set(download.role, body);
    mirror.serve(download.url, body);
    const checksum = download.role === 'kubelet' || download.role === 'kubectl'
      ? `${sha(body)}\n`
      : download.role === 'runc'
        ? `${sha(Buffer.from('amd64'))}  runc.amd64\n${sha(body)}  runc.arm64\n`
        : `${sha(body)}  ${download.name}\n`;
    mirror.serve(download.checksumUrl, checksum);
  }
  return { files };
}

// Everything a static-profile build needs offline, for one test: an arm64 GPT base, the release's stand-in binaries on
// a mirror, and its images in a real registry on 127.0.0.1; all released when the test ends.
export async function startStaticWorld(t: ExecutionContext, version: string): Promise<{ release: StaticRelease; registry: RegistryFixture; dir: string; mirror: Mirror; served: FakeStaticRelease }> {
  const release = resolveStaticRelease(version, 'arm64');
  const registry = await startFixture();
  t.teardown(() => registry.stop());
  for (const reference of Object.values(release.images)) await seedWithSkopeo(registry.image.layoutDir, '1', `${registry.open.host}/${reference}`);
  const { dir } = await makeBase(t, { arch: 'arm64', table: 'gpt' });
  const mirror = await startMirror(t);
  const served = await serveStaticRelease(mirror, release);
  return { release, registry, dir, mirror, served };
}

