import { makeTextEntry } from '../../plan/entries.ts';
import type { PlanEntry } from '../../plan/types.ts';

export const PIN_SERVER_SCRIPT = '/usr/local/lib/pikube/pin-server.sh';
// The comment that marks pikube's line in /etc/hosts, so each start replaces its own pin and nothing else.
export const PIN_MARK = '# pikube k3s server';

const ORIGIN = 'k3s server address (mDNS name pinned in /etc/hosts)';

// k3s is a static Go binary: it reads /etc/hosts and asks DNS, never NSS, so it cannot resolve the HOST.local
// name a server without a static address is joined by. Before each start of k3s (or k3s-agent) this looks the
// server up over mDNS (nss-mdns through getent, else avahi-resolve), retried, and pins the answer in /etc/hosts,
// as the static profile's first boot does for the kubelet. Each start looks again, so a new DHCP lease is picked
// up after a restart; a failed look-up leaves the old pin and lets k3s start (it restarts, and this runs again).
export function planServerPin(unit: 'k3s' | 'k3s-agent', host: string): PlanEntry[] {
  if (!host.endsWith('.local')) return [];
  const dropIn = `# pikube: k3s cannot resolve mDNS names; pin ${host} in /etc/hosts before each start.
[Unit]
Wants=avahi-daemon.service
After=avahi-daemon.service

[Service]
ExecStartPre=-${PIN_SERVER_SCRIPT} ${host}
`;
  return [
    makeTextEntry('root', PIN_SERVER_SCRIPT, PIN_SERVER_BODY, 0o755, ORIGIN),
    makeTextEntry('root', `/etc/systemd/system/${unit}.service.d/10-pikube-server-address.conf`, dropIn, 0o644, ORIGIN),
  ];
}

// The look-up asks mDNS itself first (getent -s mdns4_minimal, avahi-resolve-host-name), so an old pin in
// /etc/hosts never answers for the server; plain getent is the last resort. PIKUBE_PIN_TRIES and
// PIKUBE_PIN_PAUSE bound the wait (default 30 tries, 2 s apart), PIKUBE_HOSTS names the file (tests).
const PIN_SERVER_BODY = `#!/bin/sh
# pikube: pins a k3s server's mDNS name in /etc/hosts (see /etc/systemd/system/k3s*.service.d/10-pikube-server-address.conf).
host=$1
hosts=\${PIKUBE_HOSTS:-/etc/hosts}
tries=\${PIKUBE_PIN_TRIES:-30}
pause=\${PIKUBE_PIN_PAUSE:-2}
mark='${PIN_MARK}'
lookup() {
  for service in mdns4_minimal mdns4; do
    getent -s "hosts:$service" ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }' | grep . && return 0
  done
  if command -v avahi-resolve-host-name >/dev/null 2>&1; then
    avahi-resolve-host-name -4 -n "$host" 2>/dev/null | awk 'NR == 1 { print $2 }' | grep . && return 0
  fi
  getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }' | grep .
}
n=0
while [ "$n" -lt "$tries" ]; do
  n=$((n + 1))
  address=$(lookup)
  if [ -n "$address" ]; then
    tmp="$hosts.pikube.$$"
    grep -vF "$mark" "$hosts" >"$tmp"
    printf '%s %s %s\\n' "$address" "$host" "$mark" >>"$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$hosts"
    echo "pikube: $host is $address, pinned in $hosts (try $n)"
    exit 0
  fi
  sleep "$pause"
done
echo "pikube: $host did not answer over mDNS after $tries tries: is the server up on this network? k3s starts anyway and this runs again at its next start" >&2
exit 1
`;
