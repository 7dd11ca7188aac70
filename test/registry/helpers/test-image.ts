import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

export interface BuiltPlatformImage {
  platform: string;
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
}

export interface BuiltImage {
  layoutDir: string;
  indexDigest: string;
  platforms: BuiltPlatformImage[];
  attestationDigest: string;
  sharedLayerDigest: string;
}

const sha = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

// A layer tarball made by GNU tar from files written here, gzipped.
async function makeLayer(files: Record<string, string | Buffer>): Promise<{ gz: Buffer; diffId: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pikube-layer-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const { stdout } = await execa('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', dir, '-cf', '-', '.'], { encoding: 'buffer' });
    const tar = Buffer.from(stdout);
    return { gz: gzipSync(tar), diffId: sha(tar) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// An OCI image layout on disk: an index with linux/amd64, linux/arm64 and linux/arm/v7 images (sharing a base layer)
// and a buildkit-style attestation manifest (platform unknown/unknown), tagged `tag` for skopeo's oci:DIR:TAG.
export async function buildTestImage(root: string, tag = '1', extraPlatforms: string[] = []): Promise<BuiltImage> {
  const layoutDir = join(root, `layout-${tag}`);
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const put = async (data: Buffer | string) => {
    const digest = sha(data);
    await writeFile(join(layoutDir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: Buffer.byteLength(data) };
  };
  const base = await makeLayer({ 'etc/base.txt': 'shared base layer\n' });
  const baseBlob = await put(base.gz);
  const platforms: BuiltPlatformImage[] = [];
  const descriptors: object[] = [];
  for (const platform of ['linux/amd64', 'linux/arm64', 'linux/arm/v7', ...extraPlatforms]) {
    const [os, architecture, variant] = platform.split('/') as [string, string, string | undefined];
    const own = await makeLayer({ 'etc/platform': `${platform}\n`, 'usr/share/filler.bin': Buffer.from(createHash('sha512').update(platform).digest()) });
    const ownBlob = await put(own.gz);
    const config = JSON.stringify({ architecture, os, ...(variant ? { variant } : {}), config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [base.diffId, own.diffId] } });
    const configBlob = await put(config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: [baseBlob, ownBlob].map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...b })),
    });
    const manifestBlob = await put(manifest);
    descriptors.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, platform: { architecture, os, ...(variant ? { variant } : {}) } });
    platforms.push({ platform, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest, layerDigests: [baseBlob.digest, ownBlob.digest] });
  }
  const statement = await put(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2', subject: [] }));
  const attestationConfig = await put(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [statement.digest] } }));
  const attestation = await put(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...attestationConfig },
    layers: [{ mediaType: 'application/vnd.in-toto+json', ...statement, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }],
  }));
  descriptors.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', ...attestation,
    annotations: { 'vnd.docker.reference.digest': platforms[0]?.manifestDigest ?? '', 'vnd.docker.reference.type': 'attestation-manifest' },
    platform: { architecture: 'unknown', os: 'unknown' },
  });
  const index = await put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: descriptors }));
  await writeFile(join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { layoutDir, indexDigest: index.digest, platforms, attestationDigest: attestation.digest, sharedLayerDigest: baseBlob.digest };
}

// Reads one blob of a layout, e.g. to compare with what a pull cached.
export async function readLayoutBlob(layoutDir: string, digest: string): Promise<Buffer> {
  return readFile(join(layoutDir, 'blobs', 'sha256', digest.slice(7)));
}
