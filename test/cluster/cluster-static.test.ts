import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { Secret } from 'kubernetes-models/v1';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { parse, parseAllDocuments } from 'yaml';
import { locateOverlayScript } from '../../src/acquire/overlay-scripts.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, readRootFile, statInImage } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { startStaticWorld } from '../helpers/static-release.ts';

const PKI = '/etc/kubernetes/pki';
const SERVER = 'https://192.168.1.50:6443';
const GROUP = 'system:bootstrappers:kubeadm:default-node-token';

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ name: string; user: { token?: string; 'client-certificate-data'?: string } }>;
}

test('a 1-server, 2-agent static cluster: the server holds the control plane, the CA keys and the bootstrap token\'s Secret; agents hold the CA and the token', async (t) => {
  const { release, registry, dir, mirror } = await startStaticWorld(t, 'v1.37.1');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, registryMirror: registry.open.url,
    user: { name: 'pi', password: 'raspberry' },
    kubernetes: { distribution: 'static', version: 'v1.37.1' },
    cluster: {
      serviceCidr: '10.100.0.0/16',
      clusterCidr: '10.200.0.0/16',
      nodes: [
        { hostname: 'pi-1', role: 'server', network: { address: '192.168.1.50/24', gateway: '192.168.1.1' } },
        { hostname: 'pi-2', role: 'agent', network: { address: '192.168.1.51/24', gateway: '192.168.1.1' } },
        { hostname: 'pi-3', role: 'agent' },
      ],
    },
  });
  const output = join(dir, 'cluster');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  const names = ['pi-1', 'pi-2', 'pi-3'];
  t.deepEqual((await readdir(output)).sort(), ['cluster.json', 'cluster.kubeconfig', 'secrets', ...names.flatMap((n) => [`${n}.img`, `${n}.img.bmap`])].sort());
  const images = names.map((n) => join(output, `${n}.img`));
  const [server, agent, mdnsAgent] = images as [string, string, string];
  const read = async (image: string, path: string) => (await readRootFile(image, path, dir))?.toString() ?? '';

  // Every card: its own name, the one cluster CA, its own /24 of the pod network, the cluster DNS address.
  const caPem = await read(server, `${PKI}/ca.crt`);
  t.regex(caPem, /^-----BEGIN CERTIFICATE-----/);
  for (const [i, image] of images.entries()) {
    t.is(await read(image, '/etc/hostname'), `${names[i]}\n`);
    t.is(await read(image, `${PKI}/ca.crt`), caPem, `${names[i]} trusts the cluster CA`);
    t.like(parse(await read(image, '/var/lib/kubelet/config.yaml')), { clusterDNS: ['10.100.0.10'], rotateCertificates: true });
    const cni = JSON.parse(await read(image, '/etc/cni/net.d/10-pikube-bridge.conflist')) as { plugins: Array<{ ipam?: { ranges: Array<Array<{ subnet: string }>> } }> };
    t.is(cni.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet, `10.200.${i}.0/24`);
    t.regex(await read(image, '/var/lib/kubelet/kubeadm-flags.env'), new RegExp(`--hostname-override=${names[i]}`));
    t.regex(await read(image, '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf'), /--bootstrap-kubeconfig=\/etc\/kubernetes\/bootstrap-kubelet\.conf --kubeconfig=\/etc\/kubernetes\/kubelet\.conf/);
    t.is((await statInImage(image, ['/etc/machine-id'])).get('/etc/machine-id')?.size, 0, 'systemd makes the machine id at first boot');
    const fsck = await checkFilesystems(image, dir);
    t.is(fsck.ext + fsck.fat, 0, fsck.output);
  }

  // The server: the control plane on the cluster's networks, an API certificate for every name agents use.
  const flags = async (component: string) => (parse(await read(server, `/etc/kubernetes/manifests/${component}.yaml`)) as { spec: { containers: Array<{ command: string[] }> } }).spec.containers[0]?.command ?? [];
  t.true((await flags('kube-apiserver')).includes('--service-cluster-ip-range=10.100.0.0/16'));
  t.true((await flags('kube-apiserver')).includes('--enable-bootstrap-token-auth=true'));
  const controller = await flags('kube-controller-manager');
  for (const flag of ['--cluster-cidr=10.200.0.0/16', '--service-cluster-ip-range=10.100.0.0/16', '--controllers=*,bootstrapsigner,tokencleaner', `--cluster-signing-cert-file=${PKI}/ca.crt`, `--cluster-signing-key-file=${PKI}/ca.key`]) t.true(controller.includes(flag), flag);
  await writeFile(join(dir, 'apiserver.crt'), await read(server, `${PKI}/apiserver.crt`));
  await writeFile(join(dir, 'ca.crt'), caPem);
  t.is((await execa('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'apiserver.crt')], { reject: false })).exitCode, 0);
  const sans = String((await execa('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(dir, 'apiserver.crt')])).stdout);
  for (const san of ['DNS:pi-1', 'DNS:pi-1.local', 'IP Address:192.168.1.50', 'IP Address:10.100.0.1', 'DNS:kubernetes.default.svc.cluster.local']) t.true(sans.includes(san), san);
  const proxy = parseAllDocuments(await read(server, '/etc/kubernetes/addons/20-kube-proxy.yaml')).map((d) => d.toJS() as { kind: string; data?: Record<string, string> }).find((o) => o.kind === 'ConfigMap');
  t.like(parse(proxy?.data?.['config.conf'] ?? ''), { clusterCIDR: '10.200.0.0/16' });
  t.like(parse(proxy?.data?.['kubeconfig.conf'] ?? ''), { clusters: [{ cluster: { server: SERVER } }] }, 'kube-proxy on agents reaches the server');
  const dns = parseAllDocuments(await read(server, '/etc/kubernetes/addons/30-coredns.yaml')).map((d) => d.toJS() as { kind: string; spec?: { clusterIP?: string } }).find((o) => o.kind === 'Service');
  t.is(dns?.spec?.clusterIP, '10.100.0.10');

  // The bootstrap token's Secret and kubeadm's bootstrap bindings, applied by the server's first boot.
  const bootstrap = parseAllDocuments(await read(server, '/etc/kubernetes/addons/15-bootstrap-token.yaml')).map((d) => d.toJS() as Record<string, unknown> & { kind: string; metadata: { name: string } });
  const secret = bootstrap.find((o) => o.kind === 'Secret') as unknown as { metadata: { name: string; namespace: string }; type: string; stringData: Record<string, string> };
  t.notThrows(() => new Secret(secret as never).validate());
  t.like(secret, { metadata: { name: `bootstrap-token-${secret.stringData['token-id']}`, namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token' });
  t.like(secret.stringData, { 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': GROUP });
  t.is(secret.stringData.expiration, undefined, 'the token does not expire before the cards are flashed');
  t.like((await statInImage(server, ['/etc/kubernetes/addons/15-bootstrap-token.yaml'])).get('/etc/kubernetes/addons/15-bootstrap-token.yaml'), { mode: 0o600, uid: 0 }, 'only root reads the token');
  const token = `${secret.stringData['token-id']}.${secret.stringData['token-secret']}`;
  t.regex(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const bindings = bootstrap.filter((o) => o.kind === 'ClusterRoleBinding') as unknown as Array<{ metadata: { name: string }; roleRef: { name: string }; subjects: Array<{ kind: string; name: string }> }>;
  for (const binding of bindings) t.notThrows(() => new ClusterRoleBinding(binding as never).validate());
  t.deepEqual(bindings.map((b) => [b.metadata.name, b.roleRef.name, b.subjects[0]?.kind, b.subjects[0]?.name]), [
    ['kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', 'Group', GROUP],
    ['kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', 'Group', GROUP],
  ]);
  t.regex(await read(server, '/etc/kubernetes/addons/10-rbac.yaml'), /kubeadm:node-autoapprove-certificate-rotation/);

  // The agents: a bootstrap kubeconfig with the CA, the token and the server's address; no control plane, no keys.
  const serverOnly = ['/etc/kubernetes/manifests/kube-apiserver.yaml', '/etc/kubernetes/manifests/etcd.yaml', '/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf',
    '/etc/kubernetes/kubelet.conf', '/etc/kubernetes/addons/15-bootstrap-token.yaml', '/var/lib/etcd', ...['ca', 'apiserver', 'front-proxy-ca', 'etcd/ca', 'apiserver-kubelet-client'].map((n) => `${PKI}/${n}.key`),
    `${PKI}/sa.key`, `/var/lib/pikube/images/pikube-${release.images.etcd.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`];
  t.true([...(await statInImage(server, serverOnly)).values()].every((inode) => inode !== undefined), 'the server has the control plane');
  for (const [image, name] of [[agent, 'pi-2'], [mdnsAgent, 'pi-3']] as const) {
    const stats = await statInImage(image, [...serverOnly, '/etc/kubernetes/bootstrap-kubelet.conf', `/var/lib/pikube/images/pikube-${release.images.pause.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`]);
    for (const path of serverOnly) t.is(stats.get(path), undefined, `${name} has no ${path}`);
    t.like(stats.get('/etc/kubernetes/bootstrap-kubelet.conf'), { type: 'regular', mode: 0o600, uid: 0 });
    t.truthy(stats.get(`/var/lib/pikube/images/pikube-${release.images.pause.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`), `${name} has the pause image`);
    const kubeconfig = parse(await read(image, '/etc/kubernetes/bootstrap-kubelet.conf')) as Kubeconfig;
    t.is(kubeconfig.clusters[0]?.cluster.server, SERVER, name);
    t.is(Buffer.from(kubeconfig.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), caPem, name);
    t.is(kubeconfig.users[0]?.user.token, token, `${name} presents the server's bootstrap token`);
    const env = await read(image, '/etc/pikube/firstboot.env');
    t.regex(env, /^PIKUBE_ROLE=agent$/m);
    t.true(env.includes(`PIKUBE_SERVER=${SERVER}\n`));
    t.regex(env, /^PIKUBE_KUBECONFIG=\/etc\/kubernetes\/kubelet\.conf$/m);
  }
  t.regex(await read(server, '/etc/pikube/firstboot.env'), /^PIKUBE_ROLE=server$/m);

  // Each card routes the other cards' pod networks through them (static address, else the mDNS name).
  const routes = (image: string) => read(image, '/etc/pikube/pod-routes').then((body) => body.split('\n').filter((line) => line && !line.startsWith('#')));
  t.deepEqual(await routes(server), ['10.200.1.0/24 192.168.1.51', '10.200.2.0/24 pi-3.local']);
  t.deepEqual(await routes(agent), ['10.200.0.0/24 192.168.1.50', '10.200.2.0/24 pi-3.local']);
  t.deepEqual(await routes(mdnsAgent), ['10.200.0.0/24 192.168.1.50', '10.200.1.0/24 192.168.1.51']);
  t.like((await statInImage(agent, ['/etc/systemd/system/multi-user.target.wants/pikube-pod-routes.service'])).get('/etc/systemd/system/multi-user.target.wants/pikube-pod-routes.service'),
    { type: 'symlink', linkTarget: '/etc/systemd/system/pikube-pod-routes.service' });
  t.like((await statInImage(agent, ['/usr/local/lib/pikube/pod-routes.sh'])).get('/usr/local/lib/pikube/pod-routes.sh'), { type: 'regular', mode: 0o755, uid: 0, gid: 0 });
  t.deepEqual(await readRootFile(agent, '/usr/local/lib/pikube/pod-routes.sh', dir), await readFile(locateOverlayScript('podRoutes')), 'the card gets overlay/static/pod-routes.sh byte for byte');
  t.regex(await read(agent, '/etc/systemd/system/pikube-pod-routes.service'), /^ExecStart=\/usr\/local\/lib\/pikube\/pod-routes\.sh \/etc\/pikube\/pod-routes$/m);

  // Static addresses land in NetworkManager's files on the cards that have one.
  const connection = '/etc/NetworkManager/system-connections/pikube-eth0.nmconnection';
  t.regex(await read(server, connection), /address1=192\.168\.1\.50\/24,192\.168\.1\.1/);
  t.regex(await read(agent, connection), /address1=192\.168\.1\.51\/24,192\.168\.1\.1/);
  t.is((await statInImage(mdnsAgent, [connection])).get(connection), undefined, 'pi-3 keeps DHCP');

  // No two cards share an SSH host key.
  const seen = new Map<string, string>();
  for (const [i, image] of images.entries()) {
    for (const key of ['ed25519', 'ecdsa'].map((type) => `/etc/ssh/ssh_host_${type}_key`)) {
      const body = await read(image, key);
      t.true(body.length > 0, key);
      t.false(seen.has(body), `${names[i]} ${key} is shared with ${seen.get(body)}`);
      seen.set(body, names[i] ?? '');
    }
  }

  // cluster.kubeconfig: the admin identity, signed by the cluster CA, for the server's address.
  const view = JSON.parse(String((await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', join(output, 'cluster.kubeconfig')])).stdout)) as Kubeconfig;
  t.is(view.clusters[0]?.cluster.server, SERVER);
  t.is(Buffer.from(view.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), caPem);
  await writeFile(join(dir, 'admin.crt'), Buffer.from(view.users[0]?.user['client-certificate-data'] ?? '', 'base64'));
  t.is((await execa('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'admin.crt')], { reject: false })).exitCode, 0);
  t.regex(String((await execa('openssl', ['x509', '-noout', '-subject', '-in', join(dir, 'admin.crt')])).stdout), /O\s*=\s*kubeadm:cluster-admins/);
  t.is(JSON.parse(await readFile(join(output, 'cluster.json'), 'utf8')).server, SERVER);

  // With the folder just built, the plan reuses its kept PKI and token: every card is as the build left it.
  const plan = await runCli(['plan', '-c', recipe, '-o', output, '--offline'], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(plan.exitCode, 0, plan.stderr);
  t.deepEqual(plan.stdout.split('\n').filter((line) => line.startsWith('== ')), ['pi-1 (server)', 'pi-2 (agent)', 'pi-3 (agent)'].map((card) => `== ${card}: unchanged: a build keeps this card byte for byte`));
  t.regex(plan.stdout, /\/etc\/kubernetes\/bootstrap-kubelet\.conf/);
});
