#!/bin/sh
# pikube: pins a k3s server's mDNS name in /etc/hosts before each start of k3s or k3s-agent (ExecStartPre= of
# /etc/systemd/system/k3s*.service.d/10-pikube-server-address.conf, which passes the name as $1).
# k3s is a static Go binary: it reads /etc/hosts and asks DNS, never NSS, so it cannot resolve HOST.local itself.
# The look-up asks mDNS first (nss-mdns through getent -s mdns4_minimal, then avahi-resolve-host-name), so an old
# pin in /etc/hosts never answers for the server; plain getent is the last resort. Each start looks again, so a new
# DHCP lease is picked up after a restart; a failed look-up leaves the old pin and exits 1, which the drop-in ignores.
# PIKUBE_PIN_TRIES and PIKUBE_PIN_PAUSE bound the wait (default 30 tries, 2 s apart), PIKUBE_HOSTS names the file.
host=$1
hosts=${PIKUBE_HOSTS:-/etc/hosts}
tries=${PIKUBE_PIN_TRIES:-30}
pause=${PIKUBE_PIN_PAUSE:-2}
# The comment that marks pikube's line, so each start replaces its own pin and nothing else (PIN_MARK in pikube).
mark='# pikube k3s server'

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
    printf '%s %s %s\n' "$address" "$host" "$mark" >>"$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$hosts"
    echo "pikube: $host is $address, pinned in $hosts (try $n)"
    exit 0
  fi
  sleep "$pause"
done
echo "pikube: $host did not answer over mDNS after $tries tries: is the server up on this network? k3s starts anyway and this runs again at its next start" >&2
exit 1
