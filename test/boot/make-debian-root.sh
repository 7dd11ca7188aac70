#!/bin/bash
# Makes the boot test's Debian arm64 root as one tarball (OUT): debootstrap (bookworm, minbase + PACKAGES below) run
# through qemu-user, Debian's arm64 kernel and its modules, and a busybox initrd built on the host, all under
# /boot/pikube-test/ in the tarball. The mirror is the one this machine's apt sources name.
# Besides the runtime (containerd, runc) the root has the parts of a Raspberry Pi OS Trixie image that run in an
# emulator: cloud-init reading NoCloud from the boot partition, NetworkManager, openssh-server, avahi-daemon with
# libnss-mdns, systemd-timesyncd and sudo, set up the way Raspberry Pi OS sets them up (see the comments below).
# The test caches the tarball under a key made from this file, so changing the package list rebuilds it.
# Needs root, debootstrap, qemu-user-static (binfmt), cpio, kmod (depmod) and an apt that knows arm64.
set -euo pipefail
# Absolute: the script changes directory before it writes OUT.
out=$(realpath -m "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/pikube-debian-root-XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | sed -n 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}:[^ ]*\/debian\)\/* .*/\2/p' | head -n 1 || true)
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }

# qemu-user runs the arm64 second stage of debootstrap through binfmt_misc.
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || sed 's/:F$/:FP/' /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }

# debootstrap takes the first of alternative dependencies and cannot resolve a virtual one, so the packages that
# provide default-dbus-system-bus (dbus), default-logind (libpam-systemd) and python3-cffi-backend-api-* are named here.
PACKAGES=systemd,systemd-sysv,udev,kmod,iproute2,dbus,libpam-systemd,python3-cffi-backend,containerd,runc,cloud-init,network-manager,openssh-server,avahi-daemon,libnss-mdns,systemd-timesyncd,sudo
mkdir -p "$(dirname "$out")/debs"
debootstrap --cache-dir="$(cd "$(dirname "$out")" && pwd)/debs" --foreign --arch=arm64 --variant=minbase --include="$PACKAGES" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# Byte-compiling Python under qemu-user would be most of the second stage (cloud-init's dozens of python3-*
# packages): py3compile is a stub while the packages are configured, diverted the way debootstrap diverts ldconfig
# for fakechroot, and the host's Python compiles the same files afterwards when it is the same version.
printf '/usr/bin/py3compile\n/usr/bin/py3compile.debian\n:\n' >>"$root/var/lib/dpkg/diversions"
mkdir -p "$root/usr/bin"
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/py3compile"
chmod 755 "$root/usr/bin/py3compile"
chroot "$root" /debootstrap/debootstrap --second-stage >>"$work/debootstrap.log" 2>&1 \
  || { tail -n 80 "$root/debootstrap/debootstrap.log" >&2; exit 1; }
rm "$root/usr/bin/py3compile"
chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/bin/py3compile
if [ -x /usr/bin/python3 ] && [ -e "$root/usr/bin/python$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ]; then
  /usr/bin/python3 -m compileall -q -j 0 -s "$root" -p / "$root/usr/lib/python3/dist-packages" >/dev/null
fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

cd "$work"
kernel_pkg=$(apt-cache depends linux-image-arm64:arm64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-arm64\).*/\1/p' | head -n 1)
apt-get download -qq "$kernel_pkg:arm64" busybox-static:arm64
dpkg-deb -x linux-image-*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox
release=${kernel_pkg#linux-image-}
mkdir -p "$root/lib/modules"
tar -C kernel/lib/modules -cf - --exclude="$release/kernel/drivers/gpu" --exclude="$release/kernel/drivers/media" \
  --exclude="$release/kernel/drivers/net/wireless" --exclude="$release/kernel/sound" --exclude="$release/kernel/drivers/usb" \
  --exclude="$release/kernel/drivers/infiniband" --exclude="$release/kernel/drivers/staging" "$release" | tar -C "$root/lib/modules" -xf -
depmod -b "$root" "$release"

# The initrd: busybox, the modules that find the card (sdhost on raspi, virtio on virt) and ext4, and an /init that
# resolves root=PARTUUID=DISKID-NN itself (busybox has no blkid for PARTUUIDs).
init=$work/initrd
mkdir -p "$init"/{bin,dev,proc,sys,mnt,lib/modules}
cp busybox/bin/busybox "$init/bin/busybox"
modules=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio virtio_blk mmc_core mmc_block
  sdhci sdhci-pltfm sdhci-iproc bcm2835 bcm2835_wdt crc16 mbcache jbd2 crc32c_generic libcrc32c ext4)
for m in "${modules[@]}"; do
  f=$(find "kernel/lib/modules/$release" -name "$m.ko*" | head -n 1)
  [ -n "$f" ] && cp "$f" "$init/lib/modules/"
done
cat >"$init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio virtio_blk mmc_core mmc_block sdhci sdhci-pltfm sdhci-iproc bcm2835 bcm2835_wdt crc16 mbcache jbd2 crc32c_generic libcrc32c ext4; do
  for f in /lib/modules/$m.ko*; do [ -e "$f" ] && insmod "$f" 2>/dev/null; done
done
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
dev=
for i in $(seq 1 300); do
  case "$root" in
    PARTUUID=*)
      want=${root#PARTUUID=}; disk=${want%-*}; part=$((10#${want##*-}))
      for p in /sys/class/block/*; do
        [ -f "$p/partition" ] && [ "$(cat "$p/partition")" = "$part" ] || continue
        parent=$(basename "$(dirname "$(readlink -f "$p")")")
        id=$(dd if="/dev/$parent" bs=1 skip=440 count=4 2>/dev/null | od -An -tx4 | tr -d ' \n')
        [ "$id" = "$disk" ] && dev=/dev/$(basename "$p")
      done ;;
    *) [ -b "$root" ] && dev=$root ;;
  esac
  [ -n "$dev" ] && break
  sleep 0.1
done
[ -n "$dev" ] || { echo "initrd: root $root not found"; sleep 2; poweroff -f; }
mount -t ext4 -o ro "$dev" /mnt || { echo "initrd: cannot mount $dev"; sleep 2; poweroff -f; }
umount /proc /sys; mount --move /dev /mnt/dev 2>/dev/null || umount /dev
exec switch_root /mnt /sbin/init
INIT
chmod 755 "$init/init"
mkdir -p "$root/boot/pikube-test"
(cd "$init" && find . | cpio -o -H newc --quiet | gzip -1) >"$root/boot/pikube-test/initrd.gz"
cp "kernel/boot/vmlinuz-$release" "$root/boot/pikube-test/vmlinuz"
cp "kernel/usr/lib/linux-image-$release/broadcom/bcm2837-rpi-3-b.dtb" "$root/boot/pikube-test/bcm2837-rpi-3-b.dtb"

# Raspberry Pi OS Trixie: cloud-init's NoCloud seed is the FAT boot partition (label bootfs), rendered by
# NetworkManager; no other datasource is probed (probing the cloud ones costs minutes under emulation).
mkdir -p "$root/etc/cloud/cloud.cfg.d"
cat >"$root/etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg" <<'CFG'
datasource_list: [NoCloud, None]
datasource:
  NoCloud:
    fs_label: bootfs
system_info:
  network:
    renderers: [network-manager]
CFG
# pi-gen (stage2 01-sys-tweaks) turns off predictable interface names, so the first wired interface is eth0.
mkdir -p "$root/etc/systemd/network"
ln -sf /dev/null "$root/etc/systemd/network/99-default.link"
# Host keys come from cloud-init's first boot (ssh_deletekeys), not from this shared tarball.
rm -f "$root"/etc/ssh/ssh_host_*
# pi-gen (stage2 01-sys-tweaks, ENABLE_SSH=0 by default) ships sshd disabled: a card can only be logged in to when
# its own cloud-init user-data turns sshd on, which is what this root must prove (Raspberry Pi OS Trixie).
find "$root/etc/systemd/system" -lname '*/ssh.service' -delete

mkdir -p "$root/boot/firmware"
printf 'PARTUUID=c0ffee00-02 / ext4 defaults,noatime 0 1\nPARTUUID=c0ffee00-01 /boot/firmware vfat defaults 0 2\n' >"$root/etc/fstab"
echo debian-pi >"$root/etc/hostname"
: >"$root/etc/machine-id"
mkdir -p "$root/var/log/journal"
tar -C "$root" --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
