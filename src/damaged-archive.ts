import { UserError } from './errors.ts';

// The packings an image may come in, besides a raw image.
export type ArchiveFormat = 'zip' | 'xz' | 'gzip';

const KIND: Record<ArchiveFormat, string> = { zip: 'zip archive', xz: 'xz file', gzip: 'gzip file' };

// A damaged or cut-off input is the user's to replace, never a tool failure or a bug: one message for every
// format, building and flashing alike, naming the file as given and what to do.
export function damagedArchive(archivePath: string, format: ArchiveFormat, detail: string, cause?: unknown): UserError {
  return new UserError(`${archivePath} is not a readable ${KIND[format]} (truncated or corrupt: ${detail})`,
    'download it again (for a cached download: `pikube cache prune --all`), or check the file you gave', cause === undefined ? undefined : { cause });
}
