import type { BuildInput, FileEntry } from './types.ts';

export const BUILD_RECORD_PATH = '/etc/pikube/build.json';

export interface BuildRecord {
  pikube: string;
  builtAt: string;
  recipeSha256: string;
  base: { diskId: string; architecture: string };
  inputs: BuildInput[];
  // Who and what the card was built to be, so `pikube boot-test` knows whom to log in as and what to check.
  identity?: BuildIdentity;
}

export interface BuildIdentity {
  hostname?: string;
  user?: string;
  // How many SSH keys the user may log in with.
  sshAuthorizedKeys: number;
  network?: { interface: string; address: string; gateway: string };
}

// The image remembers how it was made, so `pikube inspect` can tell what a card holds months later.
export function planBuildRecord(record: BuildRecord): FileEntry {
  return {
    type: 'file',
    partition: 'root',
    path: BUILD_RECORD_PATH,
    mode: 0o644,
    uid: 0,
    gid: 0,
    content: { kind: 'text', text: `${JSON.stringify(record, null, 2)}\n` },
    origin: 'pikube build record',
    stamped: true,
  };
}
