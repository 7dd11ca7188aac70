import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { makeKubeconfig } from '../../src/kube/kubeconfig.ts';
import { issueCertificate } from '../../src/kube/pki/certificates.ts';
import { generateK3sPki } from '../../src/kube/pki/k3s-pki.ts';
import { sha256 } from '../helpers/image.ts';
import { makeTempDir } from '../helpers/temp.ts';

const DAY = 86_400_000;

test('the k3s CAs are self-signed CAs back-dated a day, and the admin certificate chains to the client CA', async (t) => {
  const dir = await makeTempDir(t);
  const now = Date.now();
  const pki = await generateK3sPki({ notBefore: new Date(now - DAY) });
  const byName = new Map(pki.files.map((f) => [f.path.replace('/var/lib/rancher/k3s/server/tls/', ''), f]));
  t.deepEqual([...byName.keys()].sort(), ['client-ca.crt', 'client-ca.key', 'etcd/peer-ca.crt', 'etcd/peer-ca.key', 'etcd/server-ca.crt', 'etcd/server-ca.key', 'request-header-ca.crt', 'request-header-ca.key', 'server-ca.crt', 'server-ca.key', 'service.key']);
  for (const f of pki.files) t.is(f.mode, f.path.endsWith('.key') ? 0o600 : 0o644, f.path);
  await writeFile(join(dir, 'client-ca.crt'), byName.get('client-ca.crt')?.content ?? '');
  await writeFile(join(dir, 'server-ca.crt'), byName.get('server-ca.crt')?.content ?? '');
  await writeFile(join(dir, 'admin.crt'), pki.admin.certPem);
  const verify = await execa('openssl', ['verify', '-CAfile', join(dir, 'client-ca.crt'), join(dir, 'admin.crt')], { reject: false });
  t.is(verify.exitCode, 0, String(verify.stderr));
  const wrongCa = await execa('openssl', ['verify', '-CAfile', join(dir, 'server-ca.crt'), join(dir, 'admin.crt')], { reject: false });
  t.not(wrongCa.exitCode, 0, 'the admin certificate is not signed by the server CA');
  const admin = await execa('openssl', ['x509', '-in', join(dir, 'admin.crt'), '-noout', '-subject', '-startdate', '-ext', 'extendedKeyUsage']);
  t.regex(String(admin.stdout), /subject=O = system:masters, CN = pikube-admin/);
  t.regex(String(admin.stdout), /TLS Web Client Authentication/);
  const notBefore = Date.parse(/notBefore=(.*)/.exec(String(admin.stdout))?.[1] ?? '');
  t.true(notBefore < now - DAY + 60_000 && notBefore > now - DAY - 60_000, 'notBefore is a day in the past');
  const ca = await execa('openssl', ['x509', '-in', join(dir, 'server-ca.crt'), '-noout', '-ext', 'basicConstraints,keyUsage']);
  t.regex(String(ca.stdout), /CA:TRUE/);
  t.regex(String(ca.stdout), /Certificate Sign/);
  t.is(pki.token.split('::')[0], `K10${sha256(byName.get('server-ca.crt')?.content ?? '')}`);
  t.regex(byName.get('service.key')?.content ?? '', /^-----BEGIN RSA PRIVATE KEY-----/);
  const ec = await execa('openssl', ['ec', '-check', '-noout'], { input: byName.get('server-ca.key')?.content, reject: false });
  t.is(ec.exitCode, 0);
});

test('a serving certificate carries the SANs it was asked for and verifies against its CA', async (t) => {
  const dir = await makeTempDir(t);
  const notBefore = new Date(Date.now() - DAY);
  const ca = await issueCertificate({ commonName: 'test-ca', notBefore, days: 10, usage: 'ca' });
  const leaf = await issueCertificate({ commonName: 'kube-apiserver', notBefore, days: 10, usage: 'server', dnsNames: ['pi-1', 'pi-1.local'], ipAddresses: ['192.168.1.50'] }, ca);
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  await writeFile(join(dir, 'leaf.crt'), leaf.certPem);
  t.is((await execa('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.crt')], { reject: false })).exitCode, 0);
  const text = String((await execa('openssl', ['x509', '-in', join(dir, 'leaf.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage'])).stdout);
  t.regex(text, /DNS:pi-1, DNS:pi-1\.local, IP Address:192\.168\.1\.50/);
  t.regex(text, /TLS Web Server Authentication/);
});

test('the host kubeconfig parses with kubectl config view and embeds the CA and admin credentials', async (t) => {
  const dir = await makeTempDir(t);
  const pki = await generateK3sPki({ notBefore: new Date(Date.now() - DAY) });
  const path = join(dir, 'pi.kubeconfig');
  await writeFile(path, makeKubeconfig({ clusterName: 'pi-1', server: 'https://pi-1.local:6443', caPem: pki.serverCaPem, userName: 'pikube-admin', certPem: pki.admin.certPem, keyPem: pki.admin.keyPem }), { mode: 0o600 });
  const view = await execa('kubectl', ['config', 'view', '--kubeconfig', path, '--raw', '-o', 'json'], { reject: false });
  t.is(view.exitCode, 0, String(view.stderr));
  const config = JSON.parse(String(view.stdout)) as { clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>; 'current-context': string };
  t.is(config.clusters[0]?.cluster.server, 'https://pi-1.local:6443');
  t.is(Buffer.from(config.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), pki.serverCaPem);
  t.is(config['current-context'], 'pi-1');
});
