import { stringify } from 'yaml';
import { CLUSTER, MANIFEST_DIR, type StaticNetwork } from './cluster-settings.ts';
import { PKI_DIR } from '../pki/kubeadm-pki.ts';

export const CONTAINERD_SOCKET = 'unix:///run/containerd/containerd.sock';
// Written by first boot once every image tarball is in containerd; the kubelet waits for it (see the drop-in).
export const IMAGES_IMPORTED = '/var/lib/pikube/images-imported';

// containerd 2.x config (version 3): the systemd cgroup driver the kubelet uses, and the pause image pinned as the
// sandbox so the kubelet's image GC keeps it and no pod start needs the network.
export function makeContainerdConfig(pauseImage: string): string {
  return `# written by pikube: containerd 2.x, config version 3
version = 3

[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = '${pauseImage}'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
`;
}

// containerd.service as the containerd project ships it, for the release binaries in /usr/local/bin.
export function makeContainerdUnit(): string {
  return `[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd

Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5

LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`;
}

// kubelet.service as Kubernetes' packages ship it, pointing at /usr/local/bin.
export function makeKubeletUnit(): string {
  return `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
}

// kubeadm's drop-in (10-kubeadm.conf): kubeconfig, config file and the per-node flags file.
export function makeKubeletKubeadmDropIn(): string {
  return `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
}

// pikube's drop-in: the kubelet needs containerd, and starts only after first boot imported the images, so no
// static pod tries to pull from the network first.
export function makeKubeletPikubeDropIn(): string {
  return `# written by pikube
[Unit]
Wants=containerd.service
After=containerd.service
ConditionPathExists=${IMAGES_IMPORTED}
`;
}

// The per-node flags kubeadm writes to kubeadm-flags.env; never a flag the kubelet has removed
// (--pod-infra-container-image went in 1.35: the sandbox image comes from containerd's pinned_images).
export function makeKubeletFlags(node: string, nodeIp: string | undefined): string {
  const args = [`--hostname-override=${node}`, ...(nodeIp ? [`--node-ip=${nodeIp}`] : [])];
  return `KUBELET_KUBEADM_ARGS="${args.join(' ')}"\n`;
}

// /var/lib/kubelet/config.yaml with kubeadm's defaults: static pods, systemd cgroups, webhook authn/authz with the
// cluster CA, containerd's socket and the cluster DNS address.
export function makeKubeletConfig(network: StaticNetwork): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { cacheTTL: '0s', enabled: true },
      x509: { clientCAFile: `${PKI_DIR}/ca.crt` },
    },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: [network.dnsIp],
    clusterDomain: CLUSTER.domain,
    containerRuntimeEndpoint: CONTAINERD_SOCKET,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    readOnlyPort: 0,
    rotateCertificates: true,
    staticPodPath: MANIFEST_DIR,
  });
}

// The pod network of a single node: a bridge with host-local addresses from the node's pod subnet, masquerading
// traffic that leaves the node, and port mappings.
export function makeCniConfig(network: StaticNetwork): string {
  return `${JSON.stringify({
    cniVersion: '1.0.0',
    name: 'pikube',
    plugins: [
      {
        type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: network.nodePodSubnet }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2)}\n`;
}
