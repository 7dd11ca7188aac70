import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { locateOverlayScript } from '../../src/acquire/overlay-scripts.ts';
import { makeTempDir } from '../helpers/temp.ts';

// Runs overlay/identity/keep-host-keys.sh (what a cluster card gets in place of raspberrypi-sys-mods'
// regenerate_ssh_host_keys) in a private mount namespace whose /etc is an overlay over the host's and whose
// /dev/hwrng is /dev/null, with pikube's ed25519 host key already in /etc/ssh and a stand-in systemctl on PATH.
test('keep-host-keys.sh keeps the host key pikube made, makes only the missing ones and disables the regeneration service', async (t) => {
  const dir = await makeTempDir(t);
  for (const sub of ['bin', 'etc-up', 'etc-work', 'after']) await mkdir(join(dir, sub), { recursive: true });
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pikube', '-f', join(dir, 'ssh_host_ed25519_key')]);
  await writeFile(join(dir, 'bin/systemctl'), `#!/bin/sh\necho "$*" >>${dir}/systemctl.calls\n`, { mode: 0o755 });
  const inside = `set -e
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc
mount --bind /dev/null /dev/hwrng 2>/dev/null || true
mkdir -p /etc/ssh
rm -f /etc/ssh/ssh_host_*
cp ${dir}/ssh_host_ed25519_key ${dir}/ssh_host_ed25519_key.pub /etc/ssh/
PATH=${dir}/bin:$PATH ${locateOverlayScript('keepHostKeys')}
cp /etc/ssh/ssh_host_* ${dir}/after/`;
  const run = await execa('unshare', ['--mount', '--fork', 'sh', '-c', inside], { reject: false });
  t.is(run.exitCode, 0, String(run.stderr));
  t.deepEqual(await readFile(join(dir, 'after/ssh_host_ed25519_key')), await readFile(join(dir, 'ssh_host_ed25519_key')), 'pikube\'s key is kept');
  const made = (await readdir(join(dir, 'after'))).filter((name) => name.endsWith('_key')).sort();
  t.true(made.includes('ssh_host_rsa_key') && made.includes('ssh_host_ecdsa_key'), `the missing keys are made: ${made.join(', ')}`);
  t.is(await readFile(join(dir, 'systemctl.calls'), 'utf8'), '-q disable regenerate_ssh_host_keys\n');
});
