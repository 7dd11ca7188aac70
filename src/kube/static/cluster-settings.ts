// The cluster-wide choices kubeadm makes by default, shared by the manifests, the node config and the addons.
export const CLUSTER = {
  name: 'kubernetes',
  serviceSubnet: '10.96.0.0/12',
  // The first address of the service range: the `kubernetes` Service, and a SAN of the API server certificate.
  serviceIp: '10.96.0.1',
  // The tenth address: the `kube-dns` Service and the kubelet's clusterDNS.
  dnsIp: '10.96.0.10',
  podSubnet: '10.244.0.0/16',
  // A single node gets the first /24 of the pod range from the controller-manager; the bridge CNI uses the same.
  nodePodSubnet: '10.244.0.0/24',
  domain: 'cluster.local',
  apiPort: 6443,
} as const;

export const MANIFEST_DIR = '/etc/kubernetes/manifests';
