import { execa } from 'execa';
import { UserError } from '../errors.ts';
import { REQUIREMENTS, type Requirement } from './requirements.ts';

export interface ToolStatus {
  requirement: Requirement;
  found: boolean;
  version?: string;
  newEnough: boolean;
}

// Asks each tool for its version; a tool that cannot be run is reported as missing, never thrown.
export async function checkTools(requirements: readonly Requirement[] = REQUIREMENTS): Promise<ToolStatus[]> {
  return Promise.all(requirements.map(async (requirement) => {
    const result = await execa(requirement.tool, requirement.versionArgs, { reject: false, all: true, env: { LC_ALL: 'C' } });
    const missing = result.failed && (result.exitCode === undefined || result.exitCode === 127);
    if (missing) return { requirement, found: false, newEnough: false };
    const version = requirement.versionPattern.exec(String(result.all ?? ''))?.[1];
    const newEnough = !requirement.minVersion || !version || compareVersions(version, requirement.minVersion) >= 0;
    return { requirement, found: true, version, newEnough };
  }));
}

// Fails before any work starts when a command's tools are missing, naming the packages to install.
export async function ensureTools(command: string, options: { include?: string[] } = {}): Promise<void> {
  const needed = REQUIREMENTS.filter((r) => (r.commands.includes(command) && !r.optional) || options.include?.includes(r.tool));
  const statuses = await checkTools(needed);
  const bad = statuses.filter((s) => !s.found || !s.newEnough);
  if (bad.length === 0) return;
  const lines = bad.map((s) => s.found
    ? `${s.requirement.tool} ${s.version} is older than ${s.requirement.minVersion}`
    : `${s.requirement.tool} is not installed`);
  const debian = [...new Set(bad.map((s) => s.requirement.debian))].join(' ');
  const brew = [...new Set(bad.map((s) => s.requirement.homebrew))].join(' ');
  throw new UserError(`pikube ${command} needs host tools that are missing or too old:\n  ${lines.join('\n  ')}`,
    `install them: apt-get install ${debian}  (Homebrew: brew install ${brew}); then run \`pikube doctor\``);
}

// Numeric, dot-separated comparison: 1.47.0 > 1.45.10 > 1.45.
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}
