import { generateRsaKey, issueCertificate, listPemFiles, type CertificateRequest, type IssuedCertificate, type PkiFile } from './certificates.ts';
import { makeKubeconfig } from '../kubeconfig.ts';

export interface KubeadmPkiOptions {
  node: string;
  // Names and addresses the API server answers to from outside: hostname, hostname.local, a static address.
  apiNames: string[];
  apiIps: string[];
  // The first address of the service range (the `kubernetes` Service), e.g. 10.96.0.1.
  serviceIp: string;
  // Where the node's own kubeconfigs reach the API server.
  localServer: string;
  // Where the user's computer reaches it.
  externalServer: string;
  notBefore: Date;
  // The cluster's CAs and service-account key from a kept secrets folder: only the leaves are issued again.
  cas?: KubeadmCas;
}

export interface KubeadmCas {
  ca: IssuedCertificate;
  frontProxyCa: IssuedCertificate;
  etcdCa: IssuedCertificate;
  serviceAccount: { keyPem: string; publicPem: string };
}

export interface KubeadmPki {
  files: PkiFile[];
  caPem: string;
  // The admin identity (O=kubeadm:cluster-admins) for OUTPUT.kubeconfig.
  adminKubeconfig: string;
}

export const PKI_DIR = '/etc/kubernetes/pki';
const CA_DAYS = 3650;
const LEAF_DAYS = 365;

// Everything `kubeadm init` would write under /etc/kubernetes (certificates, keys, kubeconfigs), made on the host so
// the Pi only boots: the layout, names, subjects and usages kubeadm uses, ECDSA P-256 keys, back-dated by the caller.
export async function generateKubeadmPki(options: KubeadmPkiOptions): Promise<KubeadmPki> {
  const base = { notBefore: options.notBefore };
  const leaf = (request: Omit<CertificateRequest, 'notBefore' | 'days'>, issuer: IssuedCertificate) => issueCertificate({ ...base, days: LEAF_DAYS, ...request }, issuer);
  const [ca, frontProxyCa, etcdCa] = options.cas ? [options.cas.ca, options.cas.frontProxyCa, options.cas.etcdCa] : await Promise.all([
    issueCertificate({ ...base, days: CA_DAYS, commonName: 'kubernetes', usage: 'ca' }),
    issueCertificate({ ...base, days: CA_DAYS, commonName: 'front-proxy-ca', usage: 'ca' }),
    issueCertificate({ ...base, days: CA_DAYS, commonName: 'etcd-ca', usage: 'ca' }),
  ]);
  const local = { dnsNames: ['localhost', options.node], ipAddresses: ['127.0.0.1', '::1', ...options.apiIps] };
  const [apiserver, kubeletClient, frontProxyClient, etcdServer, etcdPeer, etcdHealth, apiserverEtcd, serviceAccount] = await Promise.all([
    leaf({
      commonName: 'kube-apiserver', usage: 'server',
      dnsNames: [...new Set([...options.apiNames, options.node, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'])],
      ipAddresses: [options.serviceIp, ...options.apiIps, '127.0.0.1'],
    }, ca),
    leaf({ commonName: 'kube-apiserver-kubelet-client', organizations: ['kubeadm:cluster-admins'], usage: 'client' }, ca),
    leaf({ commonName: 'front-proxy-client', usage: 'client' }, frontProxyCa),
    leaf({ commonName: options.node, usage: 'server+client', ...local }, etcdCa),
    leaf({ commonName: options.node, usage: 'server+client', ...local }, etcdCa),
    leaf({ commonName: 'kube-etcd-healthcheck-client', usage: 'client' }, etcdCa),
    leaf({ commonName: 'kube-apiserver-etcd-client', usage: 'client' }, etcdCa),
    options.cas?.serviceAccount ?? generateRsaKey(),
  ]);
  const [admin, superAdmin, kubelet, controllerManager, scheduler] = await Promise.all([
    leaf({ commonName: 'kubernetes-admin', organizations: ['kubeadm:cluster-admins'], usage: 'client' }, ca),
    leaf({ commonName: 'kubernetes-super-admin', organizations: ['system:masters'], usage: 'client' }, ca),
    leaf({ commonName: `system:node:${options.node}`, organizations: ['system:nodes'], usage: 'client' }, ca),
    leaf({ commonName: 'system:kube-controller-manager', usage: 'client' }, ca),
    leaf({ commonName: 'system:kube-scheduler', usage: 'client' }, ca),
  ]);
  const kubeconfig = (user: string, cert: IssuedCertificate, server: string) => makeKubeconfig({
    clusterName: 'kubernetes', server, caPem: ca.certPem, userName: user, certPem: cert.certPem, keyPem: cert.keyPem,
  });
  const conf = (name: string, user: string, cert: IssuedCertificate): PkiFile => ({ path: `/etc/kubernetes/${name}`, content: kubeconfig(user, cert, options.localServer), mode: 0o600 });
  return {
    files: [
      ...listPemFiles(PKI_DIR, 'ca', ca),
      ...listPemFiles(PKI_DIR, 'apiserver', apiserver),
      ...listPemFiles(PKI_DIR, 'apiserver-kubelet-client', kubeletClient),
      ...listPemFiles(PKI_DIR, 'front-proxy-ca', frontProxyCa),
      ...listPemFiles(PKI_DIR, 'front-proxy-client', frontProxyClient),
      { path: `${PKI_DIR}/sa.key`, content: serviceAccount.keyPem, mode: 0o600 },
      { path: `${PKI_DIR}/sa.pub`, content: serviceAccount.publicPem, mode: 0o644 },
      ...listPemFiles(PKI_DIR, 'etcd/ca', etcdCa),
      ...listPemFiles(PKI_DIR, 'etcd/server', etcdServer),
      ...listPemFiles(PKI_DIR, 'etcd/peer', etcdPeer),
      ...listPemFiles(PKI_DIR, 'etcd/healthcheck-client', etcdHealth),
      ...listPemFiles(PKI_DIR, 'apiserver-etcd-client', apiserverEtcd),
      conf('admin.conf', 'kubernetes-admin', admin),
      conf('super-admin.conf', 'kubernetes-super-admin', superAdmin),
      conf('kubelet.conf', `system:node:${options.node}`, kubelet),
      conf('controller-manager.conf', 'system:kube-controller-manager', controllerManager),
      conf('scheduler.conf', 'system:kube-scheduler', scheduler),
    ],
    caPem: ca.certPem,
    adminKubeconfig: kubeconfig('kubernetes-admin', admin, options.externalServer),
  };
}
