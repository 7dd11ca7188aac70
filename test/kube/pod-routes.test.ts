import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { locateOverlayScript } from '../../src/acquire/overlay-scripts.ts';
import { makeTempDir } from '../helpers/temp.ts';

// Runs overlay/static/pod-routes.sh (the file the card gets) on `routes` with stand-ins on PATH: getent answers
// for the names in `known` only, as the system resolver would for nodes up on the LAN, and ip records each call.
async function runRoutes(dir: string, routes: string, known: Record<string, string>): Promise<{ exitCode: number; stdout: string; ip: string }> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  const answers = Object.entries(known).map(([host, address]) => `  ${host}) echo "${address}      STREAM ${host}" ;;`).join('\n');
  await writeFile(join(dir, 'bin/getent'), `#!/bin/sh\n[ "$1" = ahostsv4 ] || exit 2\ncase "$2" in\n${answers}\n  *) exit 2 ;;\nesac\n`, { mode: 0o755 });
  await writeFile(join(dir, 'bin/ip'), `#!/bin/sh\necho "$*" >>${dir}/ip.calls\n`, { mode: 0o755 });
  await writeFile(join(dir, 'pod-routes'), routes);
  const run = await execa(locateOverlayScript('podRoutes'), [join(dir, 'pod-routes')], { reject: false, env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` } });
  return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), ip: await readFile(join(dir, 'ip.calls'), 'utf8').catch(() => '') };
}

const ROUTES = '# written by pikube: SUBNET HOST\n10.200.0.0/24 192.168.1.50\n\n10.200.2.0/24 pi-3.local\n';

test('pod-routes.sh routes each node\'s pod network through that node and exits 0 once all are set', async (t) => {
  const run = await runRoutes(await makeTempDir(t), ROUTES, { '192.168.1.50': '192.168.1.50', 'pi-3.local': '192.168.1.53' });
  t.is(run.exitCode, 0, run.stdout);
  t.is(run.ip, 'route replace 10.200.0.0/24 via 192.168.1.50\nroute replace 10.200.2.0/24 via 192.168.1.53\n');
  t.regex(run.stdout, /pikube-pod-routes: 10\.200\.2\.0\/24 via 192\.168\.1\.53 \(pi-3\.local\)/);
});

test('pod-routes.sh sets what it can and exits non-zero while a node does not resolve, so systemd tries again', async (t) => {
  const run = await runRoutes(await makeTempDir(t), ROUTES, { '192.168.1.50': '192.168.1.50' });
  t.is(run.exitCode, 1);
  t.is(run.ip, 'route replace 10.200.0.0/24 via 192.168.1.50\n');
  t.regex(run.stdout, /no route to 10\.200\.2\.0\/24 yet: pi-3\.local does not resolve or is not on this network/);
});
