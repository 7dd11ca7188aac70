import type { FileEntry, PlanEntry } from './types.ts';

// A root-owned file entry: the one shape every planner (identity, Pi fixes, profiles, first boot) writes.
export function makeFileEntry(partition: 'boot' | 'root', path: string, content: FileEntry['content'], mode: number, origin: string): FileEntry {
  return { type: 'file', partition, path, mode, uid: 0, gid: 0, content, origin };
}

// A root-owned file holding `body`, on either partition.
export function makeTextEntry(partition: 'boot' | 'root', path: string, body: string, mode: number, origin: string): FileEntry {
  return makeFileEntry(partition, path, { kind: 'text', text: body }, mode, origin);
}

// Content copied from a file on the host, named by its size and digest so the plan says exactly what goes in.
export function makeHostContent(local: { hostPath: string; size: number; sha256: string }): FileEntry['content'] {
  return { kind: 'host', path: local.hostPath, size: local.size, sha256: local.sha256 };
}

// What `systemctl enable` leaves for a unit in /etc/systemd/system: its link in multi-user.target.wants.
export function makeEnableLink(unit: string, origin: string): PlanEntry {
  return { type: 'symlink', partition: 'root', path: `/etc/systemd/system/multi-user.target.wants/${unit}`, target: `/etc/systemd/system/${unit}`, uid: 0, gid: 0, origin: `${origin} (enabled)` };
}
