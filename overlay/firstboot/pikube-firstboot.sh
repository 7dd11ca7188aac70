#!/bin/bash
# pikube first boot: runs once (pikube-firstboot.service), checks what Kubernetes needs on this Pi, loads or builds
# the images pikube put in the image, waits for the node to be Ready (a cluster's agent: for its k3s agent to run, or
# for its kubelet to join the static server), and leaves a status file on the boot partition that can be read by
# putting the card back into a laptop.
# Every line also goes to the journal.
# Test mode (`pikube.test` or `pikube.test=SECONDS` on the kernel command line, added only by `pikube boot-test` to
# its throw-away copy): the node wait is short (SECONDS, default 60), the image tarballs are also imported into a
# system containerd when the image has one, and pikube-boot-test.service powers the machine off afterwards.
set -uo pipefail

# shellcheck source=/dev/null
. /etc/pikube/firstboot.env

STATUS_DIR=${PIKUBE_BOOT:-/boot}
STATUS="$STATUS_DIR/pikube-status.txt"
DONE=/var/lib/pikube/firstboot.done
RUNS=/var/lib/pikube/firstboot.runs
FAILED=0
TEST_MODE=0
TEST_NODE_WAIT=60

read -r -a kernel_words </proc/cmdline
for word in "${kernel_words[@]}"; do
  case "$word" in
    pikube.test) TEST_MODE=1 ;;
    pikube.test=*) TEST_MODE=1 && TEST_NODE_WAIT=${word#pikube.test=} ;;
  esac
done
case "$TEST_NODE_WAIT" in '' | *[!0-9]*) TEST_NODE_WAIT=60 ;; esac

status() {
  local step=$1 result=$2 detail=${3:-}
  printf '%s %-12s %-7s %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$step" "$result" "$detail" | tee -a "$STATUS"
  [ "$result" = FAIL ] && FAILED=1
  return 0
}

check_architecture() {
  local machine
  machine=$(uname -m)
  case "$PIKUBE_ARCH:$machine" in
    arm64:aarch64 | armhf:armv7l | armhf:armv8l | armhf:aarch64) status architecture ok "$machine for $PIKUBE_ARCH binaries" ;;
    armhf:armv6l) status architecture FAIL "this CPU is ARMv6 (Pi Zero, Zero W or 1): k3s's armhf build needs ARMv7, a Pi 2 or later" ;;
    *) status architecture FAIL "this CPU is $machine but the image holds $PIKUBE_ARCH binaries: build for the right base" ;;
  esac
}

check_memory_cgroup() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    if grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
      status cgroups ok "cgroup v2 with the memory controller"
    else
      status cgroups FAIL "the memory cgroup is off: cmdline.txt needs cgroup_enable=memory cgroup_memory=1"
    fi
  elif awk '$1 == "memory" && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups 2>/dev/null; then
    status cgroups ok "cgroup v1 with the memory controller"
  else
    status cgroups FAIL "the memory cgroup is off: cmdline.txt needs cgroup_enable=memory cgroup_memory=1"
  fi
}

check_swap() {
  if [ -n "$(tail -n +2 /proc/swaps 2>/dev/null)" ]; then
    status swap warn "swap is on; the kubelet prefers it off"
  else
    status swap ok "off"
  fi
}

build_images() {
  local entry name context archive
  for entry in ${PIKUBE_BUILDS:-}; do
    name=${entry%%=*}
    context=${entry#*=}
    if ! command -v docker >/dev/null 2>&1; then
      status build FAIL "$name: this base has no docker to build with"
      continue
    fi
    archive="$PIKUBE_IMAGE_DIR/pikube-build-$(printf '%s' "$name" | tr '/:' '__').tar"
    if docker build -t "$name" "$context" && docker save "$name" -o "$archive.tmp" && mv "$archive.tmp" "$archive"; then
      status build ok "$name from $context"
    else
      rm -f "$archive.tmp"
      status build FAIL "$name: docker build failed (journalctl -u pikube-firstboot)"
    fi
  done
}

# Test mode only: k3s imports the tarballs itself on a Pi; a system containerd (the boot test's Debian root has one)
# proves the tarballs import for real. ctr here is the system one, never the k3s link in /usr/local/bin.
import_into_containerd() {
  local ctr=/usr/bin/ctr archive deadline output imported=0 failed=0
  [ "$TEST_MODE" -eq 1 ] || return 0
  if [ ! -x "$ctr" ]; then
    status containerd skip "no system containerd on this image: the tarballs are left for k3s to import"
    return
  fi
  deadline=$((SECONDS + 120))
  until "$ctr" version >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      status containerd FAIL "the system containerd did not answer within 120 s (journalctl -u containerd)"
      return
    fi
    sleep 2
  done
  for archive in "$PIKUBE_IMAGE_DIR"/*.tar; do
    [ -f "$archive" ] || continue
    if output=$("$ctr" -n k8s.io images import "$archive" 2>&1); then
      imported=$((imported + 1))
    else
      failed=$((failed + 1))
      status containerd FAIL "ctr -n k8s.io images import $archive failed: $(printf '%s' "$output" | tail -n 1)"
    fi
  done
  [ "$failed" -eq 0 ] && status containerd ok "$imported image tarballs imported into the system containerd"
  "$ctr" -n k8s.io images ls 2>&1 | sed 's/^/    | /' | tee -a "$STATUS"
}

load_images() {
  local count
  count=$(find "$PIKUBE_IMAGE_DIR" -maxdepth 1 -type f \( -name '*.tar' -o -name '*.tar.zst' -o -name '*.tar.gz' \) | wc -l)
  status images ok "$count image archives in $PIKUBE_IMAGE_DIR, imported and pinned by k3s at start"
}

# The static profile: kernel modules and sysctls now (not only from the next boot), swap off.
prepare_host() {
  modprobe overlay 2>/dev/null || status modules FAIL "modprobe overlay failed"
  modprobe br_netfilter 2>/dev/null || status modules FAIL "modprobe br_netfilter failed"
  if sysctl --system >/dev/null 2>&1; then
    status sysctl ok "$(sysctl -n net.ipv4.ip_forward 2>/dev/null | sed 's/^/ip_forward=/')"
  else
    status sysctl FAIL "sysctl --system failed"
  fi
  swapoff -a 2>/dev/null || true
}

# The static profile: every tarball goes into containerd's k8s.io namespace, pinned so the kubelet's image GC keeps it.
import_images() {
  local archive imported=0 tries=0
  systemctl start containerd.service
  until /usr/local/bin/ctr version >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 60 ]; then
      status containerd FAIL "containerd does not answer (journalctl -u containerd)"
      return
    fi
    sleep 2
  done
  status containerd ok "$(/usr/local/bin/ctr version 2>/dev/null | awk '/Version/ { print $2; exit }')"
  for archive in "$PIKUBE_IMAGE_DIR"/*.tar; do
    [ -e "$archive" ] || continue
    if /usr/local/bin/ctr -n k8s.io images import --label io.cri-containerd.pinned=pinned "$archive" >/dev/null; then
      imported=$((imported + 1))
    else
      status images FAIL "ctr could not import $archive"
    fi
  done
  if /usr/local/bin/ctr -n k8s.io images ls -q | grep -qxF "$PIKUBE_PAUSE_IMAGE"; then
    status images ok "$imported image archives imported into k8s.io; pause image $PIKUBE_PAUSE_IMAGE present"
  else
    status images FAIL "the pinned pause image $PIKUBE_PAUSE_IMAGE is missing after the import"
  fi
  mkdir -p "$(dirname "$PIKUBE_IMAGES_IMPORTED")"
  touch "$PIKUBE_IMAGES_IMPORTED"
  if systemctl start kubelet.service; then
    status kubelet ok "started"
  else
    status kubelet FAIL "did not start (journalctl -u kubelet)"
  fi
}

kube() {
  if [ "$PIKUBE_PROFILE" = static ]; then
    /usr/local/bin/kubectl --kubeconfig "$PIKUBE_KUBECONFIG" "$@"
  else
    /usr/local/bin/k3s kubectl "$@"
  fi
}

# The static profile: the addons (RBAC, kube-proxy, CoreDNS) once the API answers; a single node takes workloads.
apply_addons() {
  local deadline=$((SECONDS + ${PIKUBE_API_TIMEOUT:-900}))
  until kube get --raw /readyz >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      status api FAIL "the API server did not answer (crictl ps -a; journalctl -u kubelet)"
      return
    fi
    sleep 5
  done
  status api ok "the API server answers"
  if kube apply -f "$PIKUBE_ADDONS" >/dev/null; then
    status addons ok "applied $PIKUBE_ADDONS"
  else
    status addons FAIL "kubectl apply -f $PIKUBE_ADDONS failed"
  fi
}

# The static profile: the recipe's manifests, after the addons; tried a few times, because objects that need a
# namespace or CRD from another file of the folder only apply once that one has.
apply_apps() {
  [ -n "${PIKUBE_APPS:-}" ] || return 0
  local try output
  for try in 1 2 3 4 5; do
    if output=$(kube apply -R -f "$PIKUBE_APPS" 2>&1); then
      status apps ok "applied $PIKUBE_APPS (try $try)"
      return
    fi
    sleep 10
  done
  status apps FAIL "kubectl apply -R -f $PIKUBE_APPS failed: $(printf '%s' "$output" | tail -n 1 | cut -c 1-160)"
}

allow_workloads() {
  kube label node "$PIKUBE_NODE" node-role.kubernetes.io/control-plane= --overwrite >/dev/null 2>&1 || true
  if kube taint node "$PIKUBE_NODE" node-role.kubernetes.io/control-plane:NoSchedule- >/dev/null 2>&1; then
    status taint ok "removed the control-plane taint: workloads schedule on this node"
  else
    status taint ok "no control-plane taint to remove"
  fi
}

wait_for_node() {
  local timeout=${PIKUBE_READY_TIMEOUT:-900}
  [ "$TEST_MODE" -eq 1 ] && timeout=$TEST_NODE_WAIT
  local deadline=$((SECONDS + timeout))
  until kube get node "$PIKUBE_NODE" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      status node FAIL "$PIKUBE_NODE did not register within $timeout s, ${PIKUBE_UNIT:-k3s}.service is $(systemctl is-active "${PIKUBE_UNIT:-k3s}" 2>/dev/null) (journalctl -u ${PIKUBE_UNIT:-k3s}.service)"
      return
    fi
    sleep 5
  done
  if kube wait --for=condition=Ready "node/$PIKUBE_NODE" --timeout="$((deadline - SECONDS))s" >/dev/null 2>&1; then
    status node ok "$PIKUBE_NODE is Ready"
  else
    status node FAIL "$PIKUBE_NODE is not Ready (kubectl describe node $PIKUBE_NODE)"
  fi
}

# A k3s card that joins a server by its mDNS name: pin-server.sh (run before k3s starts) pinned it in /etc/hosts.
check_server_pin() {
  local host=${PIKUBE_SERVER_HOST:-} line
  case "$host" in *.local) ;; *) return 0 ;; esac
  line=$(grep -F '# pikube k3s server' /etc/hosts | awk -v h="$host" '$2 == h { print $1; exit }')
  if [ -n "$line" ]; then
    status server ok "$host is $line (pinned in /etc/hosts before k3s started)"
  else
    status server FAIL "$host did not answer over mDNS, so k3s cannot reach it: is the server up on this network? (journalctl -u ${PIKUBE_SERVICE:-k3s-agent.service})"
  fi
}

# An agent has no API server to ask; it joins the server on its own (k3s retries until the server answers).
wait_for_agent() {
  local service=${PIKUBE_SERVICE:-k3s-agent.service}
  local timeout=${PIKUBE_READY_TIMEOUT:-900}
  [ "$TEST_MODE" -eq 1 ] && timeout=$TEST_NODE_WAIT
  local deadline=$((SECONDS + timeout))
  until systemctl is-active --quiet "$service"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      status node FAIL "$service is not running (journalctl -u $service)"
      return
    fi
    sleep 5
  done
  status node ok "$service is running; $PIKUBE_NODE joins the server (check with kubectl get nodes)"
}

# A static cluster's agent: its server as a .local name is looked up through the system resolver (mDNS) and pinned
# in /etc/hosts, because the kubelet and kube-proxy resolve names without mDNS.
pin_server_address() {
  local host=$1 address
  case "$host" in *.local) ;; *) return 1 ;; esac
  address=$(getent ahostsv4 "$host" 2>/dev/null | awk '{ print $1; exit }')
  [ -n "$address" ] || return 1
  sed -i "/[[:space:]]${host//./\\.}\$/d" /etc/hosts
  printf '%s %s\n' "$address" "$host" >>/etc/hosts
  status server ok "$host is $address (pinned in /etc/hosts)"
}

# A static cluster's agent: waits until the server answers and accepts the bootstrap token (its first boot applies
# the token's Secret), trying again with a growing pause (5 s doubling to 60 s) and logging every try.
wait_for_server() {
  local host=${PIKUBE_SERVER#https://} timeout=${PIKUBE_READY_TIMEOUT:-900} delay=5 tries=0 output pinned=0
  host=${host%%:*}
  [ "$TEST_MODE" -eq 1 ] && timeout=$TEST_NODE_WAIT
  local deadline=$((SECONDS + timeout))
  while :; do
    tries=$((tries + 1))
    [ "$pinned" -eq 1 ] || { pin_server_address "$host" && pinned=1; }
    if output=$(/usr/local/bin/kubectl --kubeconfig "$PIKUBE_BOOTSTRAP_KUBECONFIG" get --raw /readyz 2>&1); then
      status server ok "$PIKUBE_SERVER answers and accepts the bootstrap token (try $tries)"
      return 0
    fi
    status server wait "try $tries: $PIKUBE_SERVER: $(printf '%s' "$output" | tail -n 1 | cut -c 1-160)"
    if [ "$SECONDS" -ge "$deadline" ]; then
      status server FAIL "$PIKUBE_SERVER did not answer within $timeout s: is the server up, and is this its address? The kubelet keeps trying."
      return 1
    fi
    sleep "$delay"
    delay=$((delay * 2 > 60 ? 60 : delay * 2))
  done
}

# A static cluster's agent: the kubelet trades the bootstrap token for its own certificate and writes its kubeconfig;
# once that exists and the node is registered, the agent has joined. On a timeout the kubelet is left running.
wait_for_join() {
  local timeout=${PIKUBE_READY_TIMEOUT:-900}
  [ "$TEST_MODE" -eq 1 ] && timeout=$TEST_NODE_WAIT
  local deadline=$((SECONDS + timeout))
  until [ -s "$PIKUBE_KUBECONFIG" ] && kube get node "$PIKUBE_NODE" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      status node FAIL "$PIKUBE_NODE did not join within $timeout s; the kubelet keeps trying (journalctl -u kubelet; kubectl get csr on the server)"
      return
    fi
    sleep 5
  done
  status node ok "$PIKUBE_NODE joined $PIKUBE_SERVER (check with kubectl get nodes)"
}

mkdir -p /var/lib/pikube
printf '%s %s\n' "$(cat /proc/sys/kernel/random/boot_id)" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" >>"$RUNS"
: >"$STATUS"
if [ "$TEST_MODE" -eq 1 ]; then
  status start ok "pikube first boot, profile $PIKUBE_PROFILE, ${PIKUBE_ROLE:-server} $PIKUBE_NODE, TEST MODE (emulator, node wait $TEST_NODE_WAIT s)"
else
  status start ok "pikube first boot, profile $PIKUBE_PROFILE, ${PIKUBE_ROLE:-server} $PIKUBE_NODE"
fi
check_architecture
check_memory_cgroup
check_swap
if [ "$PIKUBE_PROFILE" = static ]; then
  prepare_host
  import_images
  if [ "${PIKUBE_ROLE:-server}" = agent ]; then
    wait_for_server && wait_for_join
  else
    apply_addons
    apply_apps
    allow_workloads
    wait_for_node
  fi
else
  build_images
  load_images
  import_into_containerd
  check_server_pin
  if [ "${PIKUBE_ROLE:-server}" = agent ]; then
    wait_for_agent
  else
    wait_for_node
  fi
fi
if [ "$FAILED" -eq 0 ]; then
  status finish ok "first boot finished"
else
  status finish FAIL "first boot finished with failures (see the lines above)"
fi
touch "$DONE"
sync
exit "$FAILED"
