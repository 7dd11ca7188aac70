import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { locateOverlayScript, readOverlayScripts } from '../../src/acquire/overlay-scripts.ts';
import { PIN_MARK, PIN_SERVER_SCRIPT, planServerPin } from '../../src/kube/k3s/pin-server.ts';
import { makeTempDir } from '../helpers/temp.ts';

// Runs overlay/k3s/pin-server.sh (the file the card gets) with a stand-in getent that answers only when asked through nss-mdns (-s hosts:mdns4_minimal),
// `answers` after that many refusals, as a server coming up would.
async function runPin(dir: string, refusals: number, tries: number): Promise<{ exitCode: number; stdout: string; stderr: string; hosts: string }> {
  const script = locateOverlayScript('pinServer');
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'refusals'), `${refusals}\n`);
  await writeFile(join(dir, 'bin/getent'), `#!/bin/sh
[ "$1 $2" = "-s hosts:mdns4_minimal" ] || exit 2
n=$(cat ${dir}/refusals)
if [ "$n" -gt 0 ]; then echo $((n - 1)) >${dir}/refusals; exit 2; fi
printf '192.0.2.44      STREAM %s\\n192.0.2.44      DGRAM\\n' "$4"
`, { mode: 0o755 });
  const hosts = join(dir, 'hosts');
  await writeFile(hosts, `127.0.0.1\tlocalhost\n192.0.2.9 pi-1.local ${PIN_MARK}\n10.0.0.1 router\n`);
  const run = await execa(script, ['pi-1.local'], { reject: false, env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, PIKUBE_HOSTS: hosts, PIKUBE_PIN_TRIES: String(tries), PIKUBE_PIN_PAUSE: '0' } });
  return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr), hosts: await readFile(hosts, 'utf8') };
}

test('pin-server.sh is placed from overlay/, and the drop-in runs it before k3s starts, its failure ignored', async (t) => {
  const { pinServer } = await readOverlayScripts();
  const entries = planServerPin('k3s-agent', 'pi-1.local', pinServer);
  t.like(entries.find((e) => e.path === PIN_SERVER_SCRIPT), { type: 'file', mode: 0o755, content: { kind: 'host', path: pinServer.hostPath, size: pinServer.size, sha256: pinServer.sha256 } });
  const dropIn = entries.find((e) => e.path === '/etc/systemd/system/k3s-agent.service.d/10-pikube-server-address.conf');
  t.regex(dropIn?.type === 'file' && dropIn.content.kind === 'text' ? dropIn.content.text : '', /^ExecStartPre=-\/usr\/local\/lib\/pikube\/pin-server\.sh pi-1\.local$/m);
  t.deepEqual(planServerPin('k3s-agent', '192.168.1.10', pinServer), [], 'an address needs no pin');
});

test('pin-server.sh asks mDNS until the server answers and replaces only its own pin', async (t) => {
  const run = await runPin(await makeTempDir(t), 2, 5);
  t.is(run.exitCode, 0, run.stderr);
  t.regex(run.stdout, /pi-1\.local is 192\.0\.2\.44, pinned in .* \(try 3\)/);
  t.is(run.hosts, `127.0.0.1\tlocalhost\n10.0.0.1 router\n192.0.2.44 pi-1.local ${PIN_MARK}\n`);
});

test('pin-server.sh gives up after its tries with a hint, leaving /etc/hosts as it was', async (t) => {
  const run = await runPin(await makeTempDir(t), 99, 3);
  t.is(run.exitCode, 1);
  t.regex(run.stderr, /pi-1\.local did not answer over mDNS after 3 tries: is the server up on this network\?/);
  t.is(run.hosts, `127.0.0.1\tlocalhost\n192.0.2.9 pi-1.local ${PIN_MARK}\n10.0.0.1 router\n`);
});
