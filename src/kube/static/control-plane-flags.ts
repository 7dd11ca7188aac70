import { CLUSTER, type StaticNetwork } from './cluster-settings.ts';
import { API_PORT } from '../node-address.ts';
import { PKI_DIR } from '../pki/kubeadm-pki.ts';

export interface ControlPlaneAddress {
  node: string;
  // The static address when the recipe has one: etcd and the API server advertise it; else they stay on loopback.
  advertiseIp?: string;
}

const pki = (name: string) => `${PKI_DIR}/${name}`;

// kube-apiserver's flags as kubeadm writes them for a single control-plane node.
export function apiserverFlags(address: ControlPlaneAddress, network: StaticNetwork): string[] {
  return [
    ...(address.advertiseIp ? [`--advertise-address=${address.advertiseIp}`] : []),
    '--allow-privileged=true',
    '--authorization-mode=Node,RBAC',
    `--client-ca-file=${pki('ca.crt')}`,
    '--enable-admission-plugins=NodeRestriction',
    '--enable-bootstrap-token-auth=true',
    `--etcd-cafile=${pki('etcd/ca.crt')}`,
    `--etcd-certfile=${pki('apiserver-etcd-client.crt')}`,
    `--etcd-keyfile=${pki('apiserver-etcd-client.key')}`,
    '--etcd-servers=https://127.0.0.1:2379',
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`,
    `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
    '--requestheader-allowed-names=front-proxy-client',
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--secure-port=${API_PORT}`,
    `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER.domain}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    `--service-cluster-ip-range=${network.serviceSubnet}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
  ];
}

// kube-controller-manager's flags as kubeadm writes them when a pod subnet is set (node CIDRs allocated).
export function controllerManagerFlags(network: StaticNetwork): string[] {
  return [
    '--allocate-node-cidrs=true',
    '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf',
    '--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf',
    '--bind-address=127.0.0.1',
    `--client-ca-file=${pki('ca.crt')}`,
    `--cluster-cidr=${network.podSubnet}`,
    `--cluster-name=${CLUSTER.name}`,
    `--cluster-signing-cert-file=${pki('ca.crt')}`,
    `--cluster-signing-key-file=${pki('ca.key')}`,
    '--controllers=*,bootstrapsigner,tokencleaner',
    '--kubeconfig=/etc/kubernetes/controller-manager.conf',
    '--leader-elect=true',
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    `--service-account-private-key-file=${pki('sa.key')}`,
    `--service-cluster-ip-range=${network.serviceSubnet}`,
    '--use-service-account-credentials=true',
  ];
}

// kube-scheduler's flags as kubeadm writes them.
export function schedulerFlags(): string[] {
  return [
    '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
    '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf',
    '--bind-address=127.0.0.1',
    '--kubeconfig=/etc/kubernetes/scheduler.conf',
    '--leader-elect=true',
  ];
}

// etcd's flags as kubeadm writes them for a one-member cluster; etcd 3.6 turned the experimental flags kubeadm
// used with 3.5 into a feature gate and a plain flag, and 3.7 drops the old spellings, so they follow the etcd line.
export function etcdFlags(address: ControlPlaneAddress, etcdMinor: number): string[] {
  const ip = address.advertiseIp ?? '127.0.0.1';
  const listenClients = address.advertiseIp ? `https://127.0.0.1:2379,https://${ip}:2379` : 'https://127.0.0.1:2379';
  return [
    `--advertise-client-urls=https://${ip}:2379`,
    `--cert-file=${pki('etcd/server.crt')}`,
    '--client-cert-auth=true',
    '--data-dir=/var/lib/etcd',
    ...(etcdMinor >= 6
      ? ['--feature-gates=InitialCorruptCheck=true']
      : ['--experimental-initial-corrupt-check=true', '--experimental-watch-progress-notify-interval=5s']),
    `--initial-advertise-peer-urls=https://${ip}:2380`,
    `--initial-cluster=${address.node}=https://${ip}:2380`,
    `--key-file=${pki('etcd/server.key')}`,
    `--listen-client-urls=${listenClients}`,
    '--listen-metrics-urls=http://127.0.0.1:2381',
    `--listen-peer-urls=https://${ip}:2380`,
    `--name=${address.node}`,
    `--peer-cert-file=${pki('etcd/peer.crt')}`,
    '--peer-client-cert-auth=true',
    `--peer-key-file=${pki('etcd/peer.key')}`,
    `--peer-trusted-ca-file=${pki('etcd/ca.crt')}`,
    '--snapshot-count=10000',
    `--trusted-ca-file=${pki('etcd/ca.crt')}`,
    ...(etcdMinor >= 6 ? ['--watch-progress-notify-interval=5s'] : []),
  ];
}
