import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { UserError } from '../errors.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';
import { checkBlob, hasBlob, readBlob, writeBlob } from './blob-store.ts';
import { findCredentials } from './docker-credentials.ts';
import { formatImageReference, parseImageReference, resolveEndpoint, runtimeImageName, type ImageReference } from './image-reference.ts';
import { checkConfigPlatform, parseManifest, selectPlatformManifest, type Descriptor, type ImageManifest } from './manifest.ts';
import { mapWithLimit } from './map-limit.ts';
import { formatPlatform, normalizePlatform, parsePlatform, type Platform } from './platform.ts';
import { readRefRecord, writeRefRecord } from './ref-index.ts';
import { RegistryClient, shortDigest } from './registry-client.ts';
import { formatBytes } from '../format-bytes.ts';

// How pullImage finds and keeps images; retries and retryDelayMs are the acquire options' (one retry policy).
export interface PullOptions extends Pick<AcquireOptions, 'retries' | 'retryDelayMs'> {
  platform: Platform;
  // Root of the shared content-addressed cache (blobs/sha256/<hex>).
  cacheDir: string;
  // Pull HOST/REPO:TAG as MIRROR/HOST/REPO:TAG instead of from HOST.
  registryMirror?: string;
  // Use only the cache; fail if this reference was never pulled for this platform.
  offline?: boolean;
  signal?: AbortSignal;
  dockerConfigPath?: string;
}

// One platform's image, every blob verified and in the cache, ready to be written out as a tarball.
export interface PulledImage {
  // The name runtimes look it up by: docker.io/library/alpine:3.20 (or REPO@sha256:… when pulled by digest alone).
  name: string;
  reference: ImageReference;
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  cacheDir: string;
}

// Layers fetched at once.
const DEFAULT_CONCURRENCY = 4;

// Pulls REF for one platform into the cache (or finds it there with `offline`), verifying every digest.
export async function pullImage(ref: string, options: PullOptions): Promise<PulledImage> {
  const reference = parseImageReference(ref);
  const platform = normalizePlatform(options.platform);
  const name = formatImageReference(reference);
  const recorded = await readRefRecord(options.cacheDir, name, platform);
  if (options.offline || (reference.digest && recorded)) {
    const cached = recorded ? await loadCachedImage(reference, parsePlatform(recorded.imagePlatform), options.cacheDir, recorded.manifestDigest, recorded.manifestMediaType) : undefined;
    if (cached && 'manifest' in cached) {
      log.info(`${name} for ${formatPlatform(platform)}: all blobs cached (${recorded?.manifestDigest})`);
      return cached;
    }
    if (options.offline) {
      const again = `pull it again online (pikube pull ${ref} --platform ${formatPlatform(platform)}) with the same cache, or drop --offline`;
      if (cached?.damaged) throw new UserError(`${name} for ${formatPlatform(platform)} cannot be used offline: its blob ${cached.damaged} in the cache ${options.cacheDir} was damaged and has been removed`, again);
      throw new UserError(`${name} for ${formatPlatform(platform)} is not in the cache ${options.cacheDir}`, `pull it once online (pikube pull ${ref} --platform ${formatPlatform(platform)}) with the same cache, or drop --offline`);
    }
  }
  return pullFromRegistry(reference, platform, options);
}

async function pullFromRegistry(reference: ImageReference, platform: Platform, options: PullOptions): Promise<PulledImage> {
  const name = formatImageReference(reference);
  const endpoint = resolveEndpoint(reference, options.registryMirror);
  const credentials = await findCredentials(endpoint.credentialHost, options.dockerConfigPath);
  const client = new RegistryClient({ endpoint, credentials, signal: options.signal, retries: options.retries, retryDelayMs: options.retryDelayMs });
  log.step(`pulling ${name} for ${formatPlatform(platform)}${options.registryMirror ? ` through ${endpoint.baseUrl.origin}` : ''}`);
  const top = await client.fetchManifest(reference.digest ?? reference.tag ?? 'latest');
  const parsed = parseManifest(top.body, top.contentType, name);
  let manifestDescriptor: Descriptor;
  let manifest: ImageManifest;
  let chosenPlatform: Platform | undefined;
  if (parsed.kind === 'index') {
    await writeBlob(options.cacheDir, top.digest, top.body, client.name);
    const selected = selectPlatformManifest(parsed.index, platform, name);
    const fetched = await client.fetchManifest(selected.digest);
    const inner = parseManifest(fetched.body, fetched.contentType, `${name}@${selected.digest}`);
    if (inner.kind !== 'image') throw new UserError(`${name} nests an index inside an index for ${formatPlatform(platform)}`, 'pikube reads one level of index; pull the inner image by its digest');
    await writeBlob(options.cacheDir, selected.digest, fetched.body, client.name);
    manifest = inner.manifest;
    chosenPlatform = selected.platform ? normalizePlatform(selected.platform as Platform) : platform;
    manifestDescriptor = { mediaType: selected.mediaType, digest: selected.digest, size: fetched.body.length };
  } else {
    await writeBlob(options.cacheDir, top.digest, top.body, client.name);
    manifest = parsed.manifest;
    manifestDescriptor = { mediaType: manifest.mediaType ?? top.contentType?.split(';')[0] ?? 'application/vnd.oci.image.manifest.v1+json', digest: top.digest, size: top.body.length };
  }
  if (!(await hasBlob(options.cacheDir, manifest.config.digest, manifest.config.size))) await client.downloadBlob(manifest.config, options.cacheDir);
  if (parsed.kind === 'image') checkConfigPlatform(await readBlob(options.cacheDir, manifest.config.digest), platform, name);
  await fetchLayers(client, manifest.layers, options);
  await writeRefRecord(options.cacheDir, {
    reference: name,
    platform: formatPlatform(platform),
    manifestDigest: manifestDescriptor.digest,
    manifestMediaType: manifestDescriptor.mediaType,
    manifestSize: manifestDescriptor.size,
    ...(parsed.kind === 'index' ? { indexDigest: top.digest } : {}),
    imagePlatform: formatPlatform(chosenPlatform ?? platform),
    pulledAt: new Date().toISOString(),
  }, platform);
  log.info(`pulled ${name} (${formatPlatform(chosenPlatform ?? platform)}) ${manifestDescriptor.digest}`);
  return { name: runtimeImageName(reference), reference, platform: chosenPlatform ?? platform, manifest: manifestDescriptor, config: manifest.config, layers: manifest.layers, cacheDir: options.cacheDir };
}

async function fetchLayers(client: RegistryClient, layers: Descriptor[], options: PullOptions): Promise<void> {
  const unique = [...new Map(layers.map((layer) => [layer.digest, layer])).values()];
  const missing: Descriptor[] = [];
  for (const layer of unique) if (!(await hasBlob(options.cacheDir, layer.digest, layer.size))) missing.push(layer);
  const total = missing.reduce((sum, layer) => sum + layer.size, 0);
  log.info(`  ${unique.length} layers, ${unique.length - missing.length} cached, ${missing.length} to fetch (${formatBytes(total)})`);
  await mapWithLimit(missing, DEFAULT_CONCURRENCY, async (layer) => {
    throwIfInterrupted(options.signal);
    const started = Date.now();
    await client.downloadBlob(layer, options.cacheDir);
    log.info(`  ${shortDigest(layer.digest)}: ${formatBytes(layer.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}

// Rebuilds a pulled image from the cache alone, or undefined when any blob is missing.
// The image from the cache alone, or the first blob that was damaged (and removed) when that is why it cannot be.
async function loadCachedImage(reference: ImageReference, platform: Platform, cacheDir: string, manifestDigest: string, mediaType: string): Promise<PulledImage | { damaged?: string }> {
  const manifestState = await checkBlob(cacheDir, manifestDigest);
  if (manifestState !== 'ok') return manifestState === 'damaged' ? { damaged: manifestDigest } : {};
  const body = await readBlob(cacheDir, manifestDigest);
  const parsed = parseManifest(body, mediaType, formatImageReference(reference));
  if (parsed.kind !== 'image') return {};
  for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) {
    const state = await checkBlob(cacheDir, blob.digest, blob.size);
    if (state !== 'ok') return state === 'damaged' ? { damaged: blob.digest } : {};
  }
  return {
    name: runtimeImageName(reference),
    reference,
    platform,
    manifest: { mediaType, digest: manifestDigest, size: body.length },
    config: parsed.manifest.config,
    layers: parsed.manifest.layers,
    cacheDir,
  };
}

