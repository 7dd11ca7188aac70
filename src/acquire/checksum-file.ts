import { UserError } from '../errors.ts';

// Finds the sha256 for fileName in a checksum file: sha256sum lines (`HEX  name`, `HEX *name`),
// BSD lines (`SHA256 (name) = HEX`) or a bare `.sha256` holding one unnamed digest; a line naming another file
// never stands in for the one asked for.
export function parseChecksumFile(text: string, fileName: string, source: string): string {
  const entries: { name?: string; sha256: string }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const gnu = /^([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/.exec(line);
    const bsd = /^SHA256\s*\((.+)\)\s*=\s*([0-9a-fA-F]{64})$/.exec(line);
    if (gnu?.[1]) entries.push({ sha256: gnu[1].toLowerCase(), name: gnu[2]?.trim() });
    else if (bsd?.[1] && bsd[2]) entries.push({ sha256: bsd[2].toLowerCase(), name: bsd[1].trim() });
  }
  const named = entries.filter((e) => e.name !== undefined && baseName(e.name) === fileName);
  if (named.length > 0 && named.every((e) => e.sha256 === named[0]?.sha256)) return named[0]!.sha256;
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only && only.name === undefined) return only.sha256;
  if (entries.length === 0) {
    throw new UserError(`${source} holds no sha256 digest`, 'check that the checksum URL points at a sha256sum file or a .sha256 file');
  }
  throw new UserError(`${source} lists no single sha256 for ${fileName} (it names: ${entries.map((e) => e.name ?? '?').join(', ')})`,
    'give the artifact\'s sha256 directly, or the checksum file that lists this file name');
}

function baseName(name: string): string {
  return name.replace(/^\.\//, '').split('/').pop() ?? name;
}
