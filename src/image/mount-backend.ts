import { rmdirSync } from 'node:fs';
import { chmod, copyFile, lchown, lstat, mkdir, mkdtemp, readlink, rmdir, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import process from 'node:process';
import { UserError } from '../errors.ts';
import type { PlanEntry } from '../plan/types.ts';
import { statExtPaths } from '../tools/debugfs.ts';
import { repairExt } from '../tools/e2fsck.ts';
import { registerLastResort, throwIfInterrupted } from '../interrupt.ts';
import { attachLoop, detachLoop, detachLoopNow } from '../tools/losetup.ts';
import { mountExt4 } from '../tools/mount.ts';
import { unmount, unmountNow } from '../tools/umount.ts';
import { growExt } from '../tools/resize2fs.ts';
import type { ExtBackend, ExtTarget } from './backend.ts';
import { verifyExtEntries } from './verify-entries.ts';

// Attaches a loop device bounded to the partition for the length of `fn`, and always detaches it (on a forced
// exit too, by the last-resort release).
export async function withLoopDevice<T>(target: ExtTarget, fn: (device: string) => Promise<T>): Promise<T> {
  const device = await attachLoop(target.image, target.offset, target.size);
  const unregister = registerLastResort(() => detachLoopNow(device));
  try {
    return await fn(device);
  } finally {
    await detachLoop(device);
    unregister();
  }
}

// Mounts the partition for the length of `fn`, and always unmounts it and removes the mount point.
async function withMountedExt<T>(target: ExtTarget, fn: (root: string) => Promise<T>): Promise<T> {
  return withLoopDevice(target, async (device) => {
    const root = await mkdtemp(join(tmpdir(), 'pikube-mnt-'));
    // Never removed recursively: if the unmount failed, that would delete the image's files through the mount.
    const forgetFolder = registerLastResort(() => rmdirSync(root));
    try {
      await mountExt4(device, root);
      const unregister = registerLastResort(() => unmountNow(root));
      try {
        return await fn(root);
      } finally {
        await unmount(root);
        unregister();
      }
    } finally {
      await rmdir(root).catch(() => undefined);
      forgetFolder();
    }
  });
}

// Edits ext4 with the kernel's own driver: needs root, gives the same tree as the debugfs backend.
export const mountBackend: ExtBackend = {
  name: 'mount',

  async grow(target) {
    requireRoot();
    await withLoopDevice(target, async (device) => {
      await repairExt(device);
      await growExt(device);
    });
  },

  async write(target, entries, hostPathOf) {
    requireRoot();
    await withMountedExt(target, async (root) => {
      for (const entry of entries) {
        throwIfInterrupted();
        await writeEntry(root, entry, hostPathOf);
      }
    });
    await verifyExtEntries(entries, await statExtPaths({ image: target.image, offset: target.offset }, entries.map((e) => e.path)));
  },
};

function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UserError('--backend mount needs root (losetup and mount)', 'run it with sudo, or use the default backend (no root needed)');
  }
}

async function writeEntry(root: string, entry: PlanEntry, hostPathOf: (entry: PlanEntry) => string): Promise<void> {
  const path = await resolveInside(root, entry.path);
  const existing = await lstat(path).catch(() => undefined);
  if (entry.type === 'directory' && entry.ensure && existing?.isSymbolicLink()) return;
  if (existing?.isDirectory() && entry.type !== 'directory') throw conflict(entry, 'a directory');
  if (existing && !existing.isDirectory() && entry.type === 'directory') throw conflict(entry, 'a file');
  if (entry.type === 'directory') {
    if (existing && entry.ensure) return;
    if (!existing) await mkdir(path);
    await chmod(path, entry.mode);
  } else if (entry.type === 'file') {
    if (existing) await unlink(path);
    await copyFile(hostPathOf(entry), path);
    await chmod(path, entry.mode);
  } else {
    if (existing) await unlink(path);
    await symlink(entry.target, path);
  }
  await lchown(path, entry.uid, entry.gid);
}

function conflict(entry: PlanEntry, what: string): UserError {
  return new UserError(`${entry.origin} wants a ${entry.type} at ${entry.path}, but the base image has ${what} there`,
    'change the path in the recipe or overlay; pikube does not delete directories from the base');
}

// Resolves a path as the Pi would see it, following the image's own symlinks inside the mount point:
// an absolute link such as /var/run -> /run must never lead out to the host's filesystem.
async function resolveInside(root: string, path: string): Promise<string> {
  const parts = path.split('/').filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '.') continue;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = join(root, ...resolved, part);
    const info = parts.length > 0 ? await lstat(candidate).catch(() => undefined) : undefined;
    if (info?.isSymbolicLink()) {
      if (++hops > 40) throw new UserError(`too many symlinks while resolving ${path} in the image`, 'check the base image for a symlink loop');
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved.map((p) => posix.normalize(p)));
}

