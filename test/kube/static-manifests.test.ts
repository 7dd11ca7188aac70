import test from 'ava';
import { parse } from 'yaml';
import { makeControlPlaneManifests } from '../../src/kube/static/control-plane-manifests.ts';
import { resolveStaticRelease } from '../../src/acquire/static-release.ts';

const commandOf = (content: string) => (parse(content) as { spec: { containers: Array<{ command: string[] }> } }).spec.containers[0]!.command;

test('etcd flags follow the etcd line kubeadm pairs with the version (3.5 experimental flags, 3.6+ feature gate)', (t) => {
  const old = makeControlPlaneManifests(resolveStaticRelease('v1.33.5', 'arm64'), { node: 'pi' }).find((m) => m.path.endsWith('/etcd.yaml'))!;
  const current = makeControlPlaneManifests(resolveStaticRelease('v1.37.1', 'arm64'), { node: 'pi' }).find((m) => m.path.endsWith('/etcd.yaml'))!;
  t.true(commandOf(old.content).includes('--experimental-initial-corrupt-check=true'));
  t.false(commandOf(old.content).some((f) => f.startsWith('--feature-gates')));
  t.true(commandOf(current.content).includes('--feature-gates=InitialCorruptCheck=true'));
  t.false(commandOf(current.content).some((f) => f.startsWith('--experimental-')));
});

test('without a static address etcd and the API server stay on loopback and nothing advertises a guessed address', (t) => {
  const manifests = makeControlPlaneManifests(resolveStaticRelease('v1.37.1', 'arm64'), { node: 'pi' });
  const etcd = commandOf(manifests.find((m) => m.path.endsWith('/etcd.yaml'))!.content);
  const apiserver = commandOf(manifests.find((m) => m.path.endsWith('/kube-apiserver.yaml'))!.content);
  t.true(etcd.includes('--listen-client-urls=https://127.0.0.1:2379'));
  t.true(etcd.includes('--initial-cluster=pi=https://127.0.0.1:2380'));
  t.false(apiserver.some((f) => f.startsWith('--advertise-address')));
});

test('images are named for the chosen version with the pause, etcd and CoreDNS versions paired with it', (t) => {
  const release = resolveStaticRelease('v1.34.3', 'arm64');
  t.is(release.images.apiserver, 'registry.k8s.io/kube-apiserver:v1.34.3');
  t.is(release.images.proxy, 'registry.k8s.io/kube-proxy:v1.34.3');
  t.is(release.images.pause, 'registry.k8s.io/pause:3.10.1');
  t.regex(release.images.etcd, /^registry\.k8s\.io\/etcd:3\.6\.\d+-0$/);
  t.regex(release.images.coredns, /^registry\.k8s\.io\/coredns\/coredns:v1\.12\.\d+$/);
  t.is(release.downloads.find((d) => d.role === 'kubelet')?.checksumUrl, 'https://dl.k8s.io/release/v1.34.3/bin/linux/arm64/kubelet.sha256');
});
