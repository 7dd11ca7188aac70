import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '../acquire/hash-file.ts';
import type { FileEntry, PlanEntry } from '../plan/types.ts';
import { generateSshHostKey } from '../tools/ssh-keygen.ts';

const KEY_TYPES = ['ed25519', 'ecdsa', 'rsa'] as const;

// What makes a card itself rather than a clone: an empty machine id (systemd makes a new one at first boot) and
// SSH host keys made for this card alone on the host, so no two cards of a cluster share either.
export async function planNodeIdentity(hostname: string, keyDir: string, signal?: AbortSignal): Promise<PlanEntry[]> {
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const origin = `cluster node ${hostname} identity`;
  const keys = await Promise.all(KEY_TYPES.map(async (type): Promise<FileEntry[]> => {
    const path = join(keyDir, `ssh_host_${type}_key`);
    await generateSshHostKey(type, path, `root@${hostname}`, signal);
    return Promise.all([[path, 0o600], [`${path}.pub`, 0o644]].map(async ([file, mode]) => {
      const { sha256, size } = await hashFile(file as string, signal);
      const name = (file as string).slice(keyDir.length + 1);
      return { type: 'file', partition: 'root', path: `/etc/ssh/${name}`, mode: mode as number, uid: 0, gid: 0, content: { kind: 'host', path: file as string, size, sha256 }, origin };
    }));
  }));
  return [
    { type: 'file', partition: 'root', path: '/etc/machine-id', mode: 0o444, uid: 0, gid: 0, content: { kind: 'text', text: '' }, origin: `${origin} (made at first boot)` },
    { type: 'symlink', partition: 'root', path: '/var/lib/dbus/machine-id', target: '/etc/machine-id', uid: 0, gid: 0, origin },
    ...keys.flat(),
  ];
}
