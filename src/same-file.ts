import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UserError } from './errors.ts';

// A path named for a purpose, so a refusal can say which two collide ("the base" and "-o").
export interface NamedPath {
  path: string;
  role: string;
}

interface PathIdentity {
  real: string;
  dev?: bigint;
  ino?: bigint;
  directory: boolean;
}

// Where a path really is: its real path (symlinked folders followed, even for a file that does not exist yet)
// and, when it exists, its device and inode (a hard link has another name but the same inode).
async function identifyPath(path: string): Promise<PathIdentity> {
  const absolute = resolve(path);
  const info = await stat(absolute, { bigint: true }).catch(() => undefined);
  if (info) return { real: await realpath(absolute), dev: info.dev, ino: info.ino, directory: info.isDirectory() };
  const parent = dirname(absolute);
  const realParent = parent === absolute ? parent : (await identifyPath(parent)).real;
  return { real: join(realParent, basename(absolute)), directory: false };
}

function isInside(inner: string, outer: string): boolean {
  return inner.startsWith(outer.endsWith(sep) ? outer : `${outer}${sep}`);
}

function overlap(input: PathIdentity, output: PathIdentity): 'same' | 'inside' | 'contains' | undefined {
  if (input.real === output.real) return 'same';
  if (input.ino !== undefined && input.dev === output.dev && input.ino === output.ino) return 'same';
  if (isInside(input.real, output.real)) return 'inside';
  if (input.directory && isInside(output.real, input.real)) return 'contains';
  return undefined;
}

// Refuses, before anything is written, an output that is one of the inputs under another name (a symlinked
// folder, a hard link, `..`), lies inside an input folder, or is a folder holding an input: comparing strings
// would let `-o alias/base.img` replace the base.
export async function checkOutputsAvoidInputs(inputs: readonly NamedPath[], outputs: readonly NamedPath[]): Promise<void> {
  const known = await Promise.all(inputs.map(async (input) => ({ input, id: await identifyPath(input.path) })));
  for (const output of outputs) {
    const id = await identifyPath(output.path);
    for (const { input, id: inputId } of known) {
      const kind = overlap(inputId, id);
      if (!kind) continue;
      const why = kind === 'same'
        ? `${output.role} (${output.path}) is ${input.role} (${input.path})${inputId.real === resolve(input.path) && id.real === resolve(output.path) ? '' : `: both are ${inputId.real}`}`
        : kind === 'inside'
          ? `${input.role} (${input.path}) is inside ${output.role} (${output.path}), which the build replaces`
          : `${output.role} (${output.path}) is inside ${input.role} (${input.path})`;
      throw new UserError(why, 'choose another output with -o: pikube never writes over or into what it reads');
    }
  }
}
