import type { PlanEntry } from '../plan/types.ts';

// Where an ext4 partition lives inside the image being built.
export interface ExtTarget {
  image: string;
  offset: number;
  size: number;
}

// The one interface both ways of editing ext4 implement: libext2fs via debugfs (default, no root)
// or the kernel's own driver on a bounded loop device (`--backend mount`, root only).
export interface ExtBackend {
  readonly name: 'debugfs' | 'mount';
  // Grows the filesystem to fill its (already grown) partition.
  grow(target: ExtTarget, signal: AbortSignal): Promise<void>;
  // Writes root-partition entries; file contents are read from `hostPathOf(entry)`.
  write(target: ExtTarget, entries: readonly PlanEntry[], hostPathOf: (entry: PlanEntry) => string, signal: AbortSignal): Promise<void>;
}
