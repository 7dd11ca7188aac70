import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '../acquire/hash-file.ts';
import { makeFileEntry, makeHostContent } from '../plan/entries.ts';
import type { FileEntry, PlanEntry } from '../plan/types.ts';
import { generateSshHostKey } from '../tools/ssh-keygen.ts';

// SSH host key pairs made on the host for one card alone (private 0600, public 0644), as plan entries.
export async function makeHostKeys(hostname: string, keyDir: string, types: ReadonlyArray<'ed25519' | 'ecdsa' | 'rsa'>, signal?: AbortSignal): Promise<FileEntry[]> {
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const origin = `cluster node ${hostname} identity`;
  const keys = await Promise.all(types.map(async (type): Promise<FileEntry[]> => {
    const path = join(keyDir, `ssh_host_${type}_key`);
    await generateSshHostKey(type, path, `root@${hostname}`, signal);
    return Promise.all(([[path, 0o600], [`${path}.pub`, 0o644]] as const).map(async ([file, mode]) => {
      const { sha256, size } = await hashFile(file, signal);
      const name = file.slice(keyDir.length + 1);
      return makeFileEntry('root', `/etc/ssh/${name}`, makeHostContent({ hostPath: file, size, sha256 }), mode, origin);
    }));
  }));
  return keys.flat();
}

// What makes a card itself rather than a clone: an empty machine id (systemd makes a new one at first boot) and
// its own SSH host keys, so no two cards of a cluster share either.
export function planNodeIdentity(hostname: string, hostKeys: readonly FileEntry[]): PlanEntry[] {
  const origin = `cluster node ${hostname} identity`;
  return [
    { type: 'file', partition: 'root', path: '/etc/machine-id', mode: 0o444, uid: 0, gid: 0, content: { kind: 'text', text: '' }, origin: `${origin} (made at first boot)` },
    { type: 'symlink', partition: 'root', path: '/var/lib/dbus/machine-id', target: '/etc/machine-id', uid: 0, gid: 0, origin },
    ...hostKeys,
  ];
}
