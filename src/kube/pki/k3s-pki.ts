import { createHash, randomBytes } from 'node:crypto';
import { generateRsaKey, issueCertificate, listPemFiles, type PkiFile } from './certificates.ts';

export interface K3sPki {
  files: PkiFile[];
  // K10<sha256 of server-ca.crt>::server:<secret>: lets agents pin the CA when they join.
  token: string;
  serverCaPem: string;
  admin: { certPem: string; keyPem: string };
}

export interface K3sPkiOptions {
  notBefore: Date;
}

const TLS_DIR = '/var/lib/rancher/k3s/server/tls';

// The CAs k3s would make at first start, made on the host instead so the laptop trusts the node before it boots:
// k3s uses CA files it finds in server/tls/ and only generates what is missing.
export async function generateK3sPki(options: K3sPkiOptions): Promise<K3sPki> {
  const stamp = Math.floor(options.notBefore.getTime() / 1000);
  const ca = (name: string) => issueCertificate({ commonName: `${name}@${stamp}`, notBefore: options.notBefore, days: 3650, usage: 'ca' });
  const [serverCa, clientCa, requestHeaderCa, etcdServerCa, etcdPeerCa] = await Promise.all([
    ca('k3s-server-ca'), ca('k3s-client-ca'), ca('k3s-request-header-ca'), ca('etcd-server-ca'), ca('etcd-peer-ca'),
  ]);
  const serviceKey = await generateRsaKey();
  const admin = await issueCertificate({ commonName: 'pikube-admin', organizations: ['system:masters'], notBefore: options.notBefore, days: 365, usage: 'client' }, clientCa);
  const secret = randomBytes(24).toString('hex');
  return {
    files: [
      ...listPemFiles(TLS_DIR, 'server-ca', serverCa),
      ...listPemFiles(TLS_DIR, 'client-ca', clientCa),
      ...listPemFiles(TLS_DIR, 'request-header-ca', requestHeaderCa),
      ...listPemFiles(TLS_DIR, 'etcd/server-ca', etcdServerCa),
      ...listPemFiles(TLS_DIR, 'etcd/peer-ca', etcdPeerCa),
      { path: `${TLS_DIR}/service.key`, content: serviceKey.keyPem, mode: 0o600 },
    ],
    token: `K10${createHash('sha256').update(serverCa.certPem).digest('hex')}::server:${secret}`,
    serverCaPem: serverCa.certPem,
    admin: { certPem: admin.certPem, keyPem: admin.keyPem },
  };
}
