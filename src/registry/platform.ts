import { UserError } from '../errors.ts';

// An OCI platform: os, architecture and (for arm) the variant.
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const KNOWN_ARCHITECTURES: Record<string, Platform> = {
  armhf: { os: 'linux', architecture: 'arm', variant: 'v7' },
  arm64: { os: 'linux', architecture: 'arm64' },
  armel: { os: 'linux', architecture: 'arm', variant: 'v6' },
  amd64: { os: 'linux', architecture: 'amd64' },
};

// Reads `os/arch[/variant]` as docker and containerd write it (`linux/arm/v7`), the form --platform takes.
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new UserError(`"${text}" is not a platform`, 'write it as os/architecture[/variant], e.g. linux/arm64, linux/arm/v7 or linux/arm/v6');
  }
  return normalizePlatform({ os, architecture, ...(variant ? { variant } : {}) });
}

// The platform whose images run on a base image of this Debian architecture (armhf, arm64, armel).
export function platformForArchitecture(architecture: string): Platform {
  const platform = KNOWN_ARCHITECTURES[architecture];
  if (!platform) {
    throw new UserError(`no container platform is known for the architecture "${architecture}"`, `use one of ${Object.keys(KNOWN_ARCHITECTURES).join(', ')}`);
  }
  return { ...platform };
}

// `linux/arm/v7`, the way users and registries spell a platform.
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

// Fills the defaults containerd assumes: arm means arm/v7, arm64 means arm64/v8 (which is then left unwritten).
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  const architecture = ({ aarch64: 'arm64', armhf: 'arm', armel: 'arm', x86_64: 'amd64' } as Record<string, string>)[platform.architecture.toLowerCase()] ?? platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase();
  if (architecture === 'arm' && !variant) variant = 'v7';
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  return { os, architecture, ...(variant ? { variant } : {}) };
}

// How well an image platform serves the wanted one: 0 is exact, higher is an older compatible arm variant, undefined is no match.
export function rankPlatformMatch(wanted: Platform, offered: Platform): number | undefined {
  const a = normalizePlatform(wanted);
  const b = normalizePlatform(offered);
  if (a.os !== b.os || a.architecture !== b.architecture) return undefined;
  if (a.variant === b.variant) return 0;
  if (a.architecture !== 'arm') return undefined;
  const armOrder = ['v7', 'v6', 'v5'];
  const from = armOrder.indexOf(a.variant ?? 'v7');
  const to = armOrder.indexOf(b.variant ?? 'v7');
  return from >= 0 && to > from ? to - from : undefined;
}
