import type { LocalFile } from '../../acquire/local-inputs.ts';
import { makeEnableLink, makeFileEntry, makeHostContent, makeTextEntry } from '../../plan/entries.ts';
import type { PlanEntry } from '../../plan/types.ts';

// Where the routes live on the card (the unit hands the file to the script), and the script that sets them.
export const POD_ROUTES_FILE = '/etc/pikube/pod-routes';
export const POD_ROUTES_SCRIPT = '/usr/local/lib/pikube/pod-routes.sh';
const UNIT = 'pikube-pod-routes.service';

// One other node's pod network and how to reach that node: its static address, else HOSTNAME.local.
export interface PodRoute {
  subnet: string;
  host: string;
}

const ORIGIN = 'pod network routes (static cluster)';

// A static cluster node's routes to every other node's pods, set at each boot by `script`
// (overlay/static/pod-routes.sh, routing each pod /24 through its node as flannel's host-gw does) and retried
// until all are set.
export function planPodRoutes(routes: readonly PodRoute[], script: LocalFile): PlanEntry[] {
  if (routes.length === 0) return [];
  const unit = `[Unit]
Description=pikube: routes to the other nodes' pod networks
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${POD_ROUTES_SCRIPT} ${POD_ROUTES_FILE}
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target
`;
  return [
    makeTextEntry('root', POD_ROUTES_FILE, `# written by pikube: SUBNET HOST\n${routes.map((r) => `${r.subnet} ${r.host}\n`).join('')}`, 0o644, ORIGIN),
    makeFileEntry('root', POD_ROUTES_SCRIPT, makeHostContent(script), 0o755, ORIGIN),
    makeTextEntry('root', `/etc/systemd/system/${UNIT}`, unit, 0o644, ORIGIN),
    makeEnableLink(UNIT, 'pod network routes'),
  ];
}
