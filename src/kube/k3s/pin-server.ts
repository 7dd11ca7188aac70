import type { LocalFile } from '../../acquire/local-inputs.ts';
import { makeFileEntry, makeHostContent, makeTextEntry } from '../../plan/entries.ts';
import type { PlanEntry } from '../../plan/types.ts';

export const PIN_SERVER_SCRIPT = '/usr/local/lib/pikube/pin-server.sh';
// The comment that marks pikube's line in /etc/hosts, so each start replaces its own pin and nothing else
// (overlay/k3s/pin-server.sh holds the same mark).
export const PIN_MARK = '# pikube k3s server';

const ORIGIN = 'k3s server address (mDNS name pinned in /etc/hosts)';

// k3s is a static Go binary: it reads /etc/hosts and asks DNS, never NSS, so it cannot resolve the HOST.local
// name a server without a static address is joined by. Before each start of k3s (or k3s-agent) `script`
// (overlay/k3s/pin-server.sh) looks the server up over mDNS, retried, and pins the answer in /etc/hosts, as the
// static profile's first boot does for the kubelet; a failed look-up lets k3s start (it restarts, and this runs again).
export function planServerPin(unit: 'k3s' | 'k3s-agent', host: string, script: LocalFile): PlanEntry[] {
  if (!host.endsWith('.local')) return [];
  const dropIn = `# pikube: k3s cannot resolve mDNS names; pin ${host} in /etc/hosts before each start.
[Unit]
Wants=avahi-daemon.service
After=avahi-daemon.service

[Service]
ExecStartPre=-${PIN_SERVER_SCRIPT} ${host}
`;
  return [
    makeFileEntry('root', PIN_SERVER_SCRIPT, makeHostContent(script), 0o755, ORIGIN),
    makeTextEntry('root', `/etc/systemd/system/${unit}.service.d/10-pikube-server-address.conf`, dropIn, 0o644, ORIGIN),
  ];
}
