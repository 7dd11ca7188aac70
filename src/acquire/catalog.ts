import { z } from 'zod';
import catalogJson from './catalog.json' with { type: 'json' };
import { InternalError, UserError } from '../errors.ts';

const checksumSchema = z.union([
  z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  z.object({ url: z.url({ protocol: /^https$/ }), format: z.enum(['sha256sum']) }).strict(),
]);

const entrySchema = z.object({
  description: z.string(),
  version: z.string(),
  url: z.url({ protocol: /^https$/ }),
  compression: z.enum(['zip', 'xz', 'gzip', 'none']),
  // The image inside a zip, when the archive is a zip.
  imageEntry: z.string().optional(),
  // Pinned only where the publisher states the digest; otherwise read from the upstream checksum file.
  checksum: checksumSchema,
  architecture: z.enum(['armhf', 'arm64']),
  bootPartition: z.number().int().positive(),
  rootPartition: z.number().int().positive(),
  // Where the running system mounts the FAT boot partition.
  bootMount: z.enum(['/boot', '/boot/firmware']),
  firstBoot: z.object({
    mechanism: z.enum(['cloud-init']),
    datasource: z.enum(['NoCloud']),
    // Files read from the root of the boot partition on first boot.
    files: z.array(z.string()).min(1),
    defaultUser: z.string().optional(),
    defaultHostname: z.string().optional(),
  }).strict(),
}).strict();

// One base image pikube knows by name: where it comes from and what it is like inside.
export type CatalogEntry = z.infer<typeof entrySchema> & { name: string };

let cached: Map<string, CatalogEntry> | undefined;

// Validates src/acquire/catalog.json once; a bad catalog is a bug in pikube.
export function loadCatalog(): ReadonlyMap<string, CatalogEntry> {
  if (cached) return cached;
  const parsed = z.record(z.string().regex(/^[a-z0-9-]+$/), entrySchema).safeParse(catalogJson);
  if (!parsed.success) throw new InternalError(`catalog.json is invalid: ${z.prettifyError(parsed.error)}`);
  cached = new Map(Object.entries(parsed.data).map(([name, entry]) => [name, { ...entry, name }]));
  return cached;
}

// The catalog entry for a base name, or undefined when the name is not in the catalog.
export function findCatalogEntry(name: string): CatalogEntry | undefined {
  return loadCatalog().get(name);
}

// Like findCatalogEntry, but an unknown name is the user's error and lists the known ones.
export function getCatalogEntry(name: string): CatalogEntry {
  const entry = findCatalogEntry(name);
  if (entry) return entry;
  throw new UserError(`unknown base image "${name}"`, `use one of: ${[...loadCatalog().keys()].join(', ')}; or an https URL with a sha256, or a path to an image file`);
}
