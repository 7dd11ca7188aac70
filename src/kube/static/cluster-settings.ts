import { NODE_POD_PREFIX, STATIC_CLUSTER_CIDR, STATIC_SERVICE_CIDR } from '../../config/check-cluster.ts';
import { formatIpv4, parseIpv4 } from '../../config/ipv4.ts';

// The cluster-wide choices kubeadm makes by default, shared by the manifests, the node config and the addons.
export const CLUSTER = {
  name: 'kubernetes',
  domain: 'cluster.local',
} as const;

export const MANIFEST_DIR = '/etc/kubernetes/manifests';

// The addresses one node's configuration takes from the cluster's service and pod networks.
export interface StaticNetwork {
  serviceSubnet: string;
  // The first address of the service range: the `kubernetes` Service, and a SAN of the API server certificate.
  serviceIp: string;
  // The tenth address: the `kube-dns` Service and the kubelet's clusterDNS.
  dnsIp: string;
  podSubnet: string;
  // This node's /24 of the pod range, which its bridge CNI hands out.
  nodePodSubnet: string;
}

// The networks of a static node: kubeadm's 10.96.0.0/12 and 10.244.0.0/16 unless the cluster moves them; node
// `index` of a cluster gets the index-th /24 of the pod network (a single node the first).
export function makeStaticNetwork(cidrs: { serviceCidr?: string; clusterCidr?: string } = {}, index = 0): StaticNetwork {
  const service = parseIpv4(cidrs.serviceCidr ?? STATIC_SERVICE_CIDR);
  const pods = parseIpv4(cidrs.clusterCidr ?? STATIC_CLUSTER_CIDR);
  return {
    serviceSubnet: `${formatIpv4(service.network)}/${service.prefix}`,
    serviceIp: formatIpv4(service.network + 1),
    dnsIp: formatIpv4(service.network + 10),
    podSubnet: `${formatIpv4(pods.network)}/${pods.prefix}`,
    nodePodSubnet: `${formatIpv4(pods.network + index * 2 ** (32 - NODE_POD_PREFIX))}/${NODE_POD_PREFIX}`,
  };
}
