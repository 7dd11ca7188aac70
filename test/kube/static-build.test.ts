import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readBootFile, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { startStaticWorld } from '../helpers/static-release.ts';

const PKI = '/etc/kubernetes/pki';
const P = (name: string) => `${PKI}/${name}`;
const VERSION = 'v1.37.1';

// The flags kubeadm writes for Kubernetes 1.37 (etcd 3.7 line) on a node with a static address, sorted.
const REFERENCE_FLAGS: Record<string, string[]> = {
  'kube-apiserver': [
    '--advertise-address=192.168.1.60', '--allow-privileged=true', '--authorization-mode=Node,RBAC', `--client-ca-file=${P('ca.crt')}`,
    '--enable-admission-plugins=NodeRestriction', '--enable-bootstrap-token-auth=true', `--etcd-cafile=${P('etcd/ca.crt')}`,
    `--etcd-certfile=${P('apiserver-etcd-client.crt')}`, `--etcd-keyfile=${P('apiserver-etcd-client.key')}`, '--etcd-servers=https://127.0.0.1:2379',
    `--kubelet-client-certificate=${P('apiserver-kubelet-client.crt')}`, `--kubelet-client-key=${P('apiserver-kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', `--proxy-client-cert-file=${P('front-proxy-client.crt')}`,
    `--proxy-client-key-file=${P('front-proxy-client.key')}`, '--requestheader-allowed-names=front-proxy-client', `--requestheader-client-ca-file=${P('front-proxy-ca.crt')}`,
    '--requestheader-extra-headers-prefix=X-Remote-Extra-', '--requestheader-group-headers=X-Remote-Group', '--requestheader-username-headers=X-Remote-User',
    '--secure-port=6443', '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${P('sa.pub')}`,
    `--service-account-signing-key-file=${P('sa.key')}`, '--service-cluster-ip-range=10.96.0.0/12', `--tls-cert-file=${P('apiserver.crt')}`, `--tls-private-key-file=${P('apiserver.key')}`,
  ],
  'kube-controller-manager': [
    '--allocate-node-cidrs=true', '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf', '--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf',
    '--bind-address=127.0.0.1', `--client-ca-file=${P('ca.crt')}`, '--cluster-cidr=10.244.0.0/16', '--cluster-name=kubernetes', `--cluster-signing-cert-file=${P('ca.crt')}`,
    `--cluster-signing-key-file=${P('ca.key')}`, '--controllers=*,bootstrapsigner,tokencleaner', '--kubeconfig=/etc/kubernetes/controller-manager.conf', '--leader-elect=true',
    `--requestheader-client-ca-file=${P('front-proxy-ca.crt')}`, `--root-ca-file=${P('ca.crt')}`, `--service-account-private-key-file=${P('sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/12', '--use-service-account-credentials=true',
  ],
  'kube-scheduler': [
    '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf', '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf', '--bind-address=127.0.0.1',
    '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true',
  ],
  etcd: [
    '--advertise-client-urls=https://192.168.1.60:2379', `--cert-file=${P('etcd/server.crt')}`, '--client-cert-auth=true', '--data-dir=/var/lib/etcd',
    '--feature-gates=InitialCorruptCheck=true', '--initial-advertise-peer-urls=https://192.168.1.60:2380', '--initial-cluster=pi-static=https://192.168.1.60:2380',
    `--key-file=${P('etcd/server.key')}`, '--listen-client-urls=https://127.0.0.1:2379,https://192.168.1.60:2379', '--listen-metrics-urls=http://127.0.0.1:2381',
    '--listen-peer-urls=https://192.168.1.60:2380', '--name=pi-static', `--peer-cert-file=${P('etcd/peer.crt')}`, '--peer-client-cert-auth=true',
    `--peer-key-file=${P('etcd/peer.key')}`, `--peer-trusted-ca-file=${P('etcd/ca.crt')}`, '--snapshot-count=10000', `--trusted-ca-file=${P('etcd/ca.crt')}`,
    '--watch-progress-notify-interval=5s',
  ],
};

const KINDS: Record<string, { new (data: never): { validate(): void } }> = {
  Pod, DaemonSet, Deployment, ConfigMap, Service, ServiceAccount, ClusterRole, ClusterRoleBinding,
};

const CERTS: Array<[string, string, string[]]> = [
  // [certificate, issuing CA, the extended key usages it must have]
  ['apiserver', 'ca', ['TLS Web Server Authentication']],
  ['apiserver-kubelet-client', 'ca', ['TLS Web Client Authentication']],
  ['front-proxy-client', 'front-proxy-ca', ['TLS Web Client Authentication']],
  ['etcd/server', 'etcd/ca', ['TLS Web Server Authentication', 'TLS Web Client Authentication']],
  ['etcd/peer', 'etcd/ca', ['TLS Web Server Authentication', 'TLS Web Client Authentication']],
  ['etcd/healthcheck-client', 'etcd/ca', ['TLS Web Client Authentication']],
  ['apiserver-etcd-client', 'etcd/ca', ['TLS Web Client Authentication']],
];

test('an arm64 Raspberry Pi OS-shaped base becomes an upstream Kubernetes node with static pods, kubeadm PKI and preloaded images', async (t) => {
  const { release, registry, dir, mirror, served } = await startStaticWorld(t, VERSION);
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, registryMirror: registry.open.url, hostname: 'pi-static',
    user: { name: 'pi', password: 'raspberry' },
    network: { address: '192.168.1.60/24', gateway: '192.168.1.1' },
    kubernetes: { distribution: 'static' },
  });
  const output = join(dir, 'static.img');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);

  const expected: Record<string, { mode: number; type?: string }> = {
    '/usr/local/bin/kubelet': { mode: 0o755 }, '/usr/local/bin/kubectl': { mode: 0o755 }, '/usr/local/bin/containerd': { mode: 0o755 },
    '/usr/local/bin/ctr': { mode: 0o755 }, '/usr/local/bin/containerd-shim-runc-v2': { mode: 0o755 }, '/usr/local/sbin/runc': { mode: 0o755 },
    '/opt/cni/bin/bridge': { mode: 0o755 }, '/opt/cni/bin/host-local': { mode: 0o755 }, '/opt/cni/bin/loopback': { mode: 0o755 }, '/opt/cni/bin/portmap': { mode: 0o755 },
    '/etc/containerd/config.toml': { mode: 0o644 }, '/etc/systemd/system/containerd.service': { mode: 0o644 }, '/etc/systemd/system/kubelet.service': { mode: 0o644 },
    '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf': { mode: 0o644 }, '/etc/systemd/system/kubelet.service.d/20-pikube.conf': { mode: 0o644 },
    '/var/lib/kubelet/config.yaml': { mode: 0o644 }, '/var/lib/kubelet/kubeadm-flags.env': { mode: 0o644 }, '/etc/cni/net.d/10-pikube-bridge.conflist': { mode: 0o644 },
    '/var/lib/etcd': { mode: 0o700, type: 'directory' },
    '/etc/kubernetes/admin.conf': { mode: 0o600 }, '/etc/kubernetes/super-admin.conf': { mode: 0o600 }, '/etc/kubernetes/kubelet.conf': { mode: 0o600 },
    '/etc/kubernetes/controller-manager.conf': { mode: 0o600 }, '/etc/kubernetes/scheduler.conf': { mode: 0o600 },
    '/etc/kubernetes/addons/10-rbac.yaml': { mode: 0o600 }, '/etc/kubernetes/addons/20-kube-proxy.yaml': { mode: 0o600 }, '/etc/kubernetes/addons/30-coredns.yaml': { mode: 0o600 },
    '/usr/local/lib/pikube/firstboot.sh': { mode: 0o755 }, '/etc/systemd/system/pikube-firstboot.service': { mode: 0o644 },
    [P('sa.key')]: { mode: 0o600 }, [P('sa.pub')]: { mode: 0o644 },
  };
  for (const name of ['ca', 'front-proxy-ca', 'etcd/ca', ...CERTS.map(([cert]) => cert)]) {
    expected[P(`${name}.crt`)] = { mode: 0o644 };
    expected[P(`${name}.key`)] = { mode: 0o600 };
  }
  for (const component of Object.keys(REFERENCE_FLAGS)) expected[`/etc/kubernetes/manifests/${component}.yaml`] = { mode: 0o600 };
  for (const reference of Object.values(release.images)) expected[`/var/lib/pikube/images/pikube-${reference.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`] = { mode: 0o644 };
  const stats = await statInImage(output, [...Object.keys(expected), ...['containerd', 'kubelet', 'pikube-firstboot'].map((u) => `/etc/systemd/system/multi-user.target.wants/${u}.service`)]);
  for (const [path, want] of Object.entries(expected)) t.like(stats.get(path), { type: want.type ?? 'regular', mode: want.mode, uid: 0, gid: 0 }, path);
  for (const unit of ['containerd', 'kubelet', 'pikube-firstboot']) t.like(stats.get(`/etc/systemd/system/multi-user.target.wants/${unit}.service`), { type: 'symlink', linkTarget: `/etc/systemd/system/${unit}.service` });
  const read = async (path: string) => (await readRootFile(output, path, dir))?.toString() ?? '';
  t.is(sha256((await readRootFile(output, '/usr/local/bin/kubelet', dir)) ?? ''), sha256(served.files.get('kubelet')!));

  // Every manifest and addon validates against its kind's schema; the control-plane flags match the table.
  for (const [component, flags] of Object.entries(REFERENCE_FLAGS)) {
    const pod = parse(await read(`/etc/kubernetes/manifests/${component}.yaml`)) as { kind: string; spec: { containers: Array<{ image: string; command: string[] }> } };
    t.is(pod.kind, 'Pod');
    t.notThrows(() => new Pod(pod as never).validate(), component);
    const [binary, ...actual] = pod.spec.containers[0]!.command;
    t.is(binary, component);
    t.deepEqual([...actual].sort(), [...flags].sort(), `${component} flags`);
  }
  t.is((parse(await read('/etc/kubernetes/manifests/kube-apiserver.yaml')) as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]!.image, `registry.k8s.io/kube-apiserver:${VERSION}`);
  t.is((parse(await read('/etc/kubernetes/manifests/etcd.yaml')) as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]!.image, release.images.etcd);
  const kinds: string[] = [];
  for (const addon of ['10-rbac', '20-kube-proxy', '30-coredns']) {
    for (const document of parseAllDocuments(await read(`/etc/kubernetes/addons/${addon}.yaml`))) {
      const object = document.toJS() as { kind: string; metadata: { name: string } };
      const Model = KINDS[object.kind];
      t.truthy(Model, object.kind);
      if (Model) t.notThrows(() => new Model(object as never).validate(), `${object.kind} ${object.metadata.name}`);
      kinds.push(`${object.kind}/${object.metadata.name}`);
    }
  }
  for (const want of ['DaemonSet/kube-proxy', 'ConfigMap/kube-proxy', 'ClusterRoleBinding/kubeadm:node-proxier', 'Deployment/coredns', 'Service/kube-dns', 'ConfigMap/coredns', 'ClusterRole/system:coredns', 'ClusterRoleBinding/kubeadm:cluster-admins']) t.true(kinds.includes(want), want);
  const dns = parseAllDocuments(await read('/etc/kubernetes/addons/30-coredns.yaml')).map((d) => d.toJS() as { kind: string; spec?: { clusterIP?: string } }).find((o) => o.kind === 'Service');
  t.is(dns?.spec?.clusterIP, '10.96.0.10');

  // containerd, kubelet and the pinned pause image.
  const containerd = await read('/etc/containerd/config.toml');
  t.regex(containerd, /^version = 3$/m);
  t.regex(containerd, /SystemdCgroup = true/);
  const sandbox = /sandbox = '([^']+)'/.exec(containerd)?.[1];
  t.is(sandbox, release.images.pause);
  const pauseTar = join(dir, 'pause.tar');
  await writeFile(pauseTar, (await readRootFile(output, `/var/lib/pikube/images/pikube-${sandbox!.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`, dir)) ?? '');
  const index = JSON.parse(String((await execa('tar', ['-xOf', pauseTar, 'index.json'])).stdout)) as { manifests: Array<{ annotations: Record<string, string> }> };
  t.is(index.manifests[0]?.annotations['io.containerd.image.name'], sandbox, 'the preloaded pause image is the one containerd pins');
  const manifest = JSON.parse(String((await execa('tar', ['-xOf', pauseTar, 'manifest.json'])).stdout)) as Array<{ Config: string }>;
  t.is(manifest[0]?.Config, `blobs/sha256/${registry.imageFor('linux/arm64').configDigest.slice(7)}`, 'pulled for linux/arm64');
  const kubeletConfig = parse(await read('/var/lib/kubelet/config.yaml')) as Record<string, unknown>;
  t.like(kubeletConfig, {
    kind: 'KubeletConfiguration', staticPodPath: '/etc/kubernetes/manifests', cgroupDriver: 'systemd', containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    clusterDNS: ['10.96.0.10'], authentication: { webhook: { enabled: true }, anonymous: { enabled: false }, x509: { clientCAFile: P('ca.crt') } }, authorization: { mode: 'Webhook' },
  });
  const kubeletFlags = `${await read('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf')}${await read('/var/lib/kubelet/kubeadm-flags.env')}`;
  t.false(kubeletFlags.includes('--pod-infra-container-image'), 'no flag 1.35 removed');
  t.regex(kubeletFlags, /--hostname-override=pi-static --node-ip=192\.168\.1\.60/);
  t.regex(await read('/etc/systemd/system/kubelet.service.d/20-pikube.conf'), /ConditionPathExists=\/var\/lib\/pikube\/images-imported/);
  t.is((JSON.parse(await read('/etc/cni/net.d/10-pikube-bridge.conflist')) as { plugins: Array<{ type: string }> }).plugins[0]?.type, 'bridge');

  // The PKI verifies with openssl: chains, SANs, usages, notBefore in the past.
  const pkiDir = join(dir, 'pki');
  await execa('mkdir', ['-p', join(pkiDir, 'etcd')]);
  for (const name of ['ca', 'front-proxy-ca', 'etcd/ca', ...CERTS.map(([cert]) => cert)]) await writeFile(join(pkiDir, `${name}.crt`), await read(P(`${name}.crt`)));
  for (const [cert, ca, usages] of CERTS) {
    const verify = await execa('openssl', ['verify', '-CAfile', join(pkiDir, `${ca}.crt`), join(pkiDir, `${cert}.crt`)], { reject: false });
    t.is(verify.exitCode, 0, `${cert}: ${verify.stdout}${verify.stderr}`);
    const text = String((await execa('openssl', ['x509', '-noout', '-text', '-in', join(pkiDir, `${cert}.crt`)])).stdout);
    for (const usage of usages) t.true(text.includes(usage), `${cert} has ${usage}`);
    t.regex(text, /Digital Signature/, cert);
    const notBefore = String((await execa('openssl', ['x509', '-noout', '-startdate', '-in', join(pkiDir, `${cert}.crt`)])).stdout).replace('notBefore=', '');
    t.true(new Date(notBefore).getTime() < Date.now() - 12 * 3600 * 1000, `${cert} is back-dated`);
  }
  const sans = String((await execa('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(pkiDir, 'apiserver.crt')])).stdout);
  for (const san of ['DNS:pi-static', 'DNS:pi-static.local', 'DNS:kubernetes.default.svc.cluster.local', 'IP Address:192.168.1.60', 'IP Address:10.96.0.1']) t.true(sans.includes(san), san);
  t.regex(String((await execa('openssl', ['x509', '-noout', '-subject', '-in', join(pkiDir, 'apiserver-kubelet-client.crt')])).stdout), /O\s*=\s*kubeadm:cluster-admins/);
  await writeFile(join(pkiDir, 'sa.key'), await read(P('sa.key')));
  const saPub = String((await execa('openssl', ['pkey', '-in', join(pkiDir, 'sa.key'), '-pubout'])).stdout).trim();
  t.is(saPub, (await read(P('sa.pub'))).trim(), 'sa.pub is the public half of sa.key');

  // Every kubeconfig parses with kubectl and trusts the cluster CA.
  const caPem = await read(P('ca.crt'));
  const users: Record<string, string> = { admin: 'kubernetes-admin', 'super-admin': 'kubernetes-super-admin', kubelet: 'system:node:pi-static', 'controller-manager': 'system:kube-controller-manager', scheduler: 'system:kube-scheduler' };
  for (const [name, user] of Object.entries(users)) {
    const path = join(dir, `${name}.conf`);
    await writeFile(path, await read(`/etc/kubernetes/${name}.conf`));
    const view = JSON.parse(String((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', path])).stdout)) as { clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>; users: Array<{ name: string; user: { 'client-certificate-data': string } }> };
    t.is(view.clusters[0]?.cluster.server, 'https://192.168.1.60:6443', name);
    t.is(Buffer.from(view.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), caPem, name);
    t.is(view.users[0]?.name, user);
    await writeFile(join(dir, `${name}.crt`), Buffer.from(view.users[0]?.user['client-certificate-data'] ?? '', 'base64'));
    t.is((await execa('openssl', ['verify', '-CAfile', join(pkiDir, 'ca.crt'), join(dir, `${name}.crt`)], { reject: false })).exitCode, 0, name);
    t.regex(String((await execa('openssl', ['x509', '-noout', '-subject', '-in', join(dir, `${name}.crt`)])).stdout), new RegExp(`CN\\s*=\\s*${user}`), name);
  }
  const outside = JSON.parse(String((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', `${output}.kubeconfig`])).stdout)) as { clusters: Array<{ cluster: { server: string } }> };
  t.is(outside.clusters[0]?.cluster.server, 'https://192.168.1.60:6443');

  // The first-boot script and its settings.
  const script = join(dir, 'firstboot.sh');
  await writeFile(script, await read('/usr/local/lib/pikube/firstboot.sh'));
  t.is((await execa('bash', ['-n', script], { reject: false })).exitCode, 0);
  t.is((await execa('shellcheck', [script], { reject: false })).exitCode, 0);
  const env = await read('/etc/pikube/firstboot.env');
  t.regex(env, /^PIKUBE_PROFILE=static$/m);
  t.true(env.includes(`PIKUBE_PAUSE_IMAGE=${release.images.pause}\n`));
  t.regex(env, /^PIKUBE_IMAGE_DIR=\/var\/lib\/pikube\/images$/m);
  t.regex(await read('/etc/systemd/system/pikube-firstboot.service'), /^After=sysinit\.target basic\.target network-online\.target containerd\.service$/m);
  t.regex(await readBootFile(output, '/cmdline.txt') ?? '', /cgroup_enable=memory/);

  const record = JSON.parse(await read('/etc/pikube/build.json')) as { inputs: Array<{ role: string; url?: string }> };
  t.like(record.inputs.find((i) => i.role === 'kubelet'), { url: `https://dl.k8s.io/release/${VERSION}/bin/linux/arm64/kubelet` });
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);
});

test('armhf, an unsupported version and an unpublished one fail clearly, leaving nothing', async (t) => {
  const mirror = await startMirror(t);
  const env = (dir: string) => ({ PIKUBE_CACHE: join(dir, 'cache') });
  const armhf = await makeBase(t, { arch: 'armhf' });
  const refused = await runCli(['plan', '-c', await writeRecipe(armhf.dir, { base: 'base.img', mirror: mirror.url, hostname: 'pi', kubernetes: { distribution: 'static' } })], { env: env(armhf.dir) });
  t.is(refused.exitCode, 1, refused.stderr);
  t.regex(refused.stderr, /static Kubernetes profile needs a 64-bit \(arm64\) base, and this one is armhf/);
  t.regex(refused.stderr, /no 32-bit ARM server binaries.*since 1\.27.*distribution: k3s/s);
  const { dir } = await makeBase(t, { arch: 'arm64' });
  const cases: Array<[string, RegExp]> = [
    ['v1.29.5', /Kubernetes v1\.29\.5 is not supported by the static profile \(it supports 1\.30–1\.37\)/],
    ['v1.36.4+k3s1', /kubernetes\.version:? v1\.36\.4\+k3s1 is not an upstream Kubernetes release/],
    ['v1.37.99', /Kubernetes v1\.37\.99 is not a published release/],
  ];
  for (const [version, message] of cases) {
    const recipe = await writeRecipe(dir, { base: 'base.img', mirror: mirror.url, hostname: 'pi', kubernetes: { distribution: 'static', version } });
    const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')], { env: env(dir) });
    t.is(result.exitCode, 1, `${version}: ${result.stderr}`);
    t.regex(result.stderr, message, version);
  }
  const left = (await import('node:fs/promises').then((fs) => fs.readdir(dir))).filter((n) => n.startsWith('.') || n.startsWith('out.img'));
  t.deepEqual(left, []);
});
