import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTextEntry } from '../plan/entries.ts';
import type { FileEntry, PlanEntry } from '../plan/types.ts';
import { generateSshHostKey } from '../tools/ssh-keygen.ts';

// A card's SSH host key pairs by file name (ssh_host_ed25519_key and its .pub, …): the kept ones, plus a new pair
// made on the host for each type it lacks, so a rebuilt card keeps the keys its users' known_hosts trust.
export async function ensureHostKeys(hostname: string, kept: ReadonlyMap<string, string> | undefined, keyDir: string, types: ReadonlyArray<'ed25519' | 'ecdsa' | 'rsa'>, signal?: AbortSignal): Promise<Map<string, string>> {
  const keys = new Map(kept ?? []);
  const missing = types.filter((type) => !keys.has(`ssh_host_${type}_key`) || !keys.has(`ssh_host_${type}_key.pub`));
  if (missing.length === 0) return keys;
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  await Promise.all(missing.map(async (type) => {
    const path = join(keyDir, `ssh_host_${type}_key`);
    await generateSshHostKey(type, path, `root@${hostname}`, signal);
    keys.set(`ssh_host_${type}_key`, await readFile(path, 'utf8'));
    keys.set(`ssh_host_${type}_key.pub`, await readFile(`${path}.pub`, 'utf8'));
  }));
  return keys;
}

// The host keys as plan entries under /etc/ssh: private 0600, public 0644.
export function planHostKeys(hostname: string, keys: ReadonlyMap<string, string>): FileEntry[] {
  return [...keys].sort(([a], [b]) => a.localeCompare(b))
    .map(([name, text]) => makeTextEntry('root', `/etc/ssh/${name}`, text, name.endsWith('.pub') ? 0o644 : 0o600, `cluster node ${hostname} identity`));
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
