import { InternalError } from '../errors.ts';
import type { PlanEntry } from '../plan/types.ts';
import type { ExtInode } from '../tools/debugfs.ts';

// Reads back what was written and compares it with the plan, because debugfs reports success even on failure.
export function verifyExtEntries(entries: readonly PlanEntry[], found: Map<string, ExtInode | undefined>): void {
  const problems: string[] = [];
  for (const entry of entries) {
    const inode = found.get(entry.path);
    const expectedType = entry.type === 'file' ? 'regular' : entry.type;
    if (!inode) { problems.push(`${entry.path}: missing`); continue; }
    if (entry.type === 'directory' && entry.ensure && inode.type === 'symlink') continue;
    if (inode.type !== expectedType) { problems.push(`${entry.path}: is a ${inode.type}, expected ${expectedType}`); continue; }
    if (entry.type === 'directory' && entry.ensure) continue;
    if (entry.type !== 'symlink' && (inode.mode & 0o7777) !== entry.mode) problems.push(`${entry.path}: mode ${(inode.mode & 0o7777).toString(8)}, expected ${entry.mode.toString(8)}`);
    if (inode.uid !== entry.uid || inode.gid !== entry.gid) problems.push(`${entry.path}: owner ${inode.uid}:${inode.gid}, expected ${entry.uid}:${entry.gid}`);
    if (entry.type === 'file') {
      const size = entry.content.kind === 'text' ? Buffer.byteLength(entry.content.text) : entry.content.size;
      if (inode.size !== size) problems.push(`${entry.path}: ${inode.size} bytes, expected ${size}`);
    }
    if (entry.type === 'symlink' && inode.size !== Buffer.byteLength(entry.target)) problems.push(`${entry.path}: link target differs`);
  }
  if (problems.length > 0) throw new InternalError(`the image does not hold what was planned:\n  ${problems.slice(0, 20).join('\n  ')}`);
}
