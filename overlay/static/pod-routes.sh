#!/bin/sh
# pikube: routes to the other nodes' pod networks on a static cluster's node, run at each boot by
# pikube-pod-routes.service, which passes the routes file (/etc/pikube/pod-routes: one "SUBNET HOST" per line,
# written by pikube build) as $1. Each node's pod /24 goes through that node, as flannel's host-gw backend does it;
# HOST is a static address or HOSTNAME.local, resolved through the system resolver (nss-mdns). Exits non-zero while
# a node is unresolved or not on this LAN, so systemd (Restart=on-failure) tries again.
routes=${1:-/etc/pikube/pod-routes}
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
done <"$routes"
exit "$missing"
