import { makeEnableLink, makeTextEntry } from '../../plan/entries.ts';
import type { PlanEntry } from '../../plan/types.ts';

// Where the routes live on the card, and the script that sets them.
export const POD_ROUTES_FILE = '/etc/pikube/pod-routes';
export const POD_ROUTES_SCRIPT = '/usr/local/lib/pikube/pod-routes.sh';
const UNIT = 'pikube-pod-routes.service';

// One other node's pod network and how to reach that node: its static address, else HOSTNAME.local.
export interface PodRoute {
  subnet: string;
  host: string;
}

const ORIGIN = 'pod network routes (static cluster)';

// Looks every node up (mDNS names through the system resolver) and routes its pod /24 through it, like flannel's
// host-gw backend; exits non-zero while a node is unresolved or not on this LAN, so systemd tries again.
export function makePodRoutesScript(): string {
  return `#!/bin/sh
# pikube: routes to the other nodes' pod networks (${POD_ROUTES_FILE}: one "SUBNET HOST" per line).
missing=0
while read -r subnet host; do
  case "$subnet" in '' | '#'*) continue ;; esac
  address=$(getent ahostsv4 "$host" | awk '{ print $1; exit }')
  if [ -n "$address" ] && ip route replace "$subnet" via "$address"; then
    echo "pikube-pod-routes: $subnet via $address ($host)"
  else
    echo "pikube-pod-routes: no route to $subnet yet: $host does not resolve or is not on this network"
    missing=$((missing + 1))
  fi
done <${POD_ROUTES_FILE}
exit "$missing"
`;
}

// A static cluster node's routes to every other node's pods, set at each boot and retried until all are set.
export function planPodRoutes(routes: readonly PodRoute[]): PlanEntry[] {
  if (routes.length === 0) return [];
  const unit = `[Unit]
Description=pikube: routes to the other nodes' pod networks
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${POD_ROUTES_SCRIPT}
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target
`;
  return [
    makeTextEntry('root', POD_ROUTES_FILE, `# written by pikube: SUBNET HOST\n${routes.map((r) => `${r.subnet} ${r.host}\n`).join('')}`, 0o644, ORIGIN),
    makeTextEntry('root', POD_ROUTES_SCRIPT, makePodRoutesScript(), 0o755, ORIGIN),
    makeTextEntry('root', `/etc/systemd/system/${UNIT}`, unit, 0o644, ORIGIN),
    makeEnableLink(UNIT, 'pod network routes'),
  ];
}
