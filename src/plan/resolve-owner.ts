import { UserError } from '../errors.ts';
import type { ImageFacts } from './types.ts';

// Turns "user:group", "user" or "uid:gid" into numbers using the base image's own passwd and group files,
// because the host's user database says nothing about the Pi's.
export function resolveOwner(owner: string | undefined, facts: Pick<ImageFacts, 'users' | 'groups'>, where: string): { uid: number; gid: number } {
  if (owner === undefined) return { uid: 0, gid: 0 };
  const [userPart = '', groupPart] = owner.split(':');
  const user = /^\d+$/.test(userPart) ? { uid: Number(userPart), gid: Number(userPart) } : facts.users[userPart];
  if (!user) {
    throw new UserError(`${where}: the base image has no user "${userPart}"`,
      `use a user from the image's /etc/passwd (${Object.keys(facts.users).slice(0, 8).join(', ')}…) or numeric ids such as "1000:1000"`);
  }
  if (groupPart === undefined) return { uid: user.uid, gid: user.gid };
  const gid = /^\d+$/.test(groupPart) ? Number(groupPart) : facts.groups[groupPart];
  if (gid === undefined) {
    throw new UserError(`${where}: the base image has no group "${groupPart}"`, 'use a group from the image\'s /etc/group or a numeric gid');
  }
  return { uid: user.uid, gid };
}
