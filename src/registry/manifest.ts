import { z } from 'zod';
import { ToolError, UserError } from '../errors.ts';
import { formatPlatform, normalizePlatform, rankPlatformMatch, type Platform } from './platform.ts';

// The manifest media types of the OCI image spec and Docker schema 2.
export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

// Every manifest kind pikube reads, in the order it prefers them (the Accept header).
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];

const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).loose().optional(),
  urls: z.array(z.string()).optional(),
}).loose();

const indexSchema = z.object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(descriptorSchema) }).loose();
const imageManifestSchema = z.object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), config: descriptorSchema, layers: z.array(descriptorSchema) }).loose();
const configSchema = z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).loose();

// A content descriptor: what a manifest says about a blob (type, digest, size, platform).
export type Descriptor = z.infer<typeof descriptorSchema>;
// An OCI index or Docker manifest list: one descriptor per platform.
export type ImageIndex = z.infer<typeof indexSchema>;
// One platform's image: its config and layers.
export type ImageManifest = z.infer<typeof imageManifestSchema>;

// A manifest body read as either kind.
export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'image'; manifest: ImageManifest };

// Reads a manifest body, telling an index/list from a single image by its media type (or, when absent, by its shape).
export function parseManifest(body: Buffer, contentType: string | undefined, source: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ToolError({ command: source, message: `${source} did not return JSON for the manifest` });
  }
  const declared = (json as { mediaType?: string }).mediaType ?? contentType?.split(';')[0]?.trim();
  if ((json as { schemaVersion?: number }).schemaVersion === 1 || declared?.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new UserError(`${source} only has a Docker schema 1 manifest, which pikube does not read`, 'push the image again with a current docker or skopeo (schema 2 or OCI)');
  }
  const isIndex = declared === MEDIA_TYPES.ociIndex || declared === MEDIA_TYPES.dockerList || (!declared && Array.isArray((json as { manifests?: unknown }).manifests));
  const result = isIndex ? indexSchema.safeParse(json) : imageManifestSchema.safeParse(json);
  if (!result.success) throw new ToolError({ command: source, message: `${source} sent a manifest pikube cannot read: ${result.error.issues[0]?.message ?? 'invalid'}` });
  return isIndex ? { kind: 'index', index: result.data as ImageIndex } : { kind: 'image', manifest: result.data as ImageManifest };
}

// True for the entries buildkit adds beside the images: provenance and SBOM attestations, platform unknown/unknown.
export function isAttestation(descriptor: Descriptor): boolean {
  return descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
    || (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown');
}

// Picks the manifest for the platform from an index: the exact variant first, else an older arm variant that runs on it.
export function selectPlatformManifest(index: ImageIndex, platform: Platform, imageName: string): Descriptor {
  const candidates = index.manifests.filter((d) => !isAttestation(d) && d.platform);
  let best: { descriptor: Descriptor; rank: number } | undefined;
  for (const descriptor of candidates) {
    const rank = rankPlatformMatch(platform, descriptor.platform as Platform);
    if (rank !== undefined && (!best || rank < best.rank)) best = { descriptor, rank };
  }
  if (best) return best.descriptor;
  const offered = [...new Set(candidates.map((d) => formatPlatform(normalizePlatform(d.platform as Platform))))];
  throw new UserError(
    `no ${formatPlatform(platform)} image for ${imageName}: it has ${offered.length > 0 ? offered.join(', ') : 'no platform-specific images'}`,
    'choose a platform it has (--platform), or an image that is built for the Pi\'s architecture',
  );
}

// A single-platform image must still be the asked platform; its config says which one it is.
export function checkConfigPlatform(configBody: Buffer, platform: Platform, imageName: string): void {
  let json: unknown;
  try {
    json = JSON.parse(configBody.toString('utf8'));
  } catch {
    throw new ToolError({ command: imageName, message: `the image config of ${imageName} is not JSON` });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) return;
  const offered: Platform = { os: parsed.data.os, architecture: parsed.data.architecture, ...(parsed.data.variant ? { variant: parsed.data.variant } : {}) };
  if (rankPlatformMatch(platform, offered) === undefined) {
    throw new UserError(
      `no ${formatPlatform(platform)} image for ${imageName}: it is a single-platform image for ${formatPlatform(offered)}`,
      'choose a platform it has (--platform), or an image that is built for the Pi\'s architecture',
    );
  }
}
