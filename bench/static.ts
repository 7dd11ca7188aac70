// Benchmark: what the static profile computes on the host (kubeadm's PKI and kubeconfigs, the four static pods and
// the addons, each validated against its schema) beside the k3s profile's host PKI (the baseline), each in a fresh
// process, median of N rounds, with peak RSS. Prints a markdown table.
// Usage: npx tsx bench/static.ts [--rounds 5]
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const self = fileURLToPath(import.meta.url);

// Child mode: one variant, timed in-process; prints JSON.
async function runVariant(variant: string): Promise<void> {
  const notBefore = new Date(Date.now() - 86_400_000);
  const started = performance.now();
  if (variant === 'k3s') {
    const { generateK3sPki } = await import('../src/kube/pki/k3s-pki.ts');
    await generateK3sPki({ notBefore });
  } else if (variant === 'static-cluster') {
    const { generateKubeadmPki } = await import('../src/kube/pki/kubeadm-pki.ts');
    const { makeControlPlaneManifests } = await import('../src/kube/static/control-plane-manifests.ts');
    const { makeAddonManifests } = await import('../src/kube/static/addons.ts');
    const { resolveStaticRelease } = await import('../src/acquire/static-release.ts');
    const { makeStaticNetwork } = await import('../src/kube/static/cluster-settings.ts');
    const { formatBootstrapToken, generateBootstrapToken } = await import('../src/kube/static/bootstrap-token.ts');
    const { makeBootstrapKubeconfig } = await import('../src/kube/static/bootstrap-kubeconfig.ts');
    const release = resolveStaticRelease(undefined, 'arm64');
    const server = 'https://192.168.1.60:6443';
    const pki = await generateKubeadmPki({ node: 'pi', apiNames: ['pi', 'pi.local'], apiIps: ['192.168.1.60'], serviceIp: '10.96.0.1', localServer: server, externalServer: server, notBefore });
    const token = generateBootstrapToken();
    makeControlPlaneManifests(release, { node: 'pi', advertiseIp: '192.168.1.60' }, makeStaticNetwork());
    makeAddonManifests(release, server, makeStaticNetwork(), token);
    for (let i = 1; i <= 2; i += 1) makeBootstrapKubeconfig({ server, caPem: pki.caPem, token: formatBootstrapToken(token) });
  } else {
    const { generateKubeadmPki } = await import('../src/kube/pki/kubeadm-pki.ts');
    const { makeControlPlaneManifests } = await import('../src/kube/static/control-plane-manifests.ts');
    const { makeAddonManifests } = await import('../src/kube/static/addons.ts');
    const { resolveStaticRelease } = await import('../src/acquire/static-release.ts');
    const { makeStaticNetwork } = await import('../src/kube/static/cluster-settings.ts');
    const release = resolveStaticRelease(undefined, 'arm64');
    await generateKubeadmPki({ node: 'pi', apiNames: ['pi', 'pi.local'], apiIps: ['192.168.1.60'], serviceIp: '10.96.0.1', localServer: 'https://192.168.1.60:6443', externalServer: 'https://192.168.1.60:6443', notBefore });
    makeControlPlaneManifests(release, { node: 'pi', advertiseIp: '192.168.1.60' });
    makeAddonManifests(release, 'https://192.168.1.60:6443', makeStaticNetwork());
  }
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS }));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const roundsIndex = process.argv.indexOf('--rounds');
  const rounds = roundsIndex > 0 ? Number(process.argv[roundsIndex + 1]) : 5;
  const variants: Array<[string, string]> = [
    ['k3s', 'k3s host PKI: 5 CAs, admin cert, service key (baseline)'],
    ['static', 'static profile: kubeadm PKI (3 CAs, 12 leaves, sa key), 5 kubeconfigs, 4 static pods, 3 addon files, schema-validated'],
    ['static-cluster', 'static cluster (1 server + 2 agents): the above plus a bootstrap token, its Secret and RBAC, 2 bootstrap kubeconfigs'],
  ];
  const rows: string[] = [];
  for (const [variant, label] of variants) {
    const results: Array<{ ms: number; maxRssKiB: number }> = [];
    for (let i = 0; i < rounds; i += 1) {
      const { stdout } = await execa('npx', ['tsx', self, '--child', variant]);
      results.push(JSON.parse(String(stdout)) as { ms: number; maxRssKiB: number });
    }
    rows.push(`| ${label} | ${median(results.map((r) => r.ms)).toFixed(0)} ms | ${(median(results.map((r) => r.maxRssKiB)) / 1024).toFixed(0)} MiB |`);
  }
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; median of ${rounds} fresh processes\n`);
  console.log('| what | wall time (in process) | peak RSS |');
  console.log('|---|---|---|');
  for (const row of rows) console.log(row);
}

const childIndex = process.argv.indexOf('--child');
if (childIndex > 0) await runVariant(process.argv[childIndex + 1]!);
else await main();
