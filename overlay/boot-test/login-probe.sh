#!/bin/sh
# pikube boot-test's login probe. Not placed on a card: `pikube boot-test` sends it over one SSH login to the booted
# copy, as the card's user, with `sh -s WAIT`. It waits (at most WAIT seconds) for first boot to be over (the release
# folder the card's boot-test finish script opens), prints each fact a user checks first after logging in to a new
# Pi under an `@@ name` line (read back by parseLoginReport in pikube), then leaves the release file so the machine
# powers off. The release folder is fixed and shared with pikube (LOGIN_RELEASE_DIR in src/kube/firstboot.ts).
set -u
RELEASE_DIR=/run/pikube-boot-test
wait=${1:-0}
i=0
while [ ! -d "$RELEASE_DIR" ] && [ "$i" -lt "$wait" ]; do sleep 1; i=$((i + 1)); done
PIKUBE_SERVICE=''
PIKUBE_BOOT=/boot/firmware
if [ -r /etc/pikube/firstboot.env ]; then
  # shellcheck source=/dev/null
  . /etc/pikube/firstboot.env
fi
echo "@@ ready"; if [ -d "$RELEASE_DIR" ]; then echo yes; else echo no; fi
echo "@@ hostname"; hostname
echo "@@ user"; id -un
echo "@@ uid"; id -u
echo "@@ groups"; id -Gn
echo "@@ ipv4"; ip -4 -o addr show
echo "@@ sshd"; for unit in ssh.service sshd.service; do if systemctl cat "$unit" >/dev/null 2>&1; then echo "$unit $(systemctl is-active "$unit")"; break; fi; done
echo "@@ kube"; [ -n "$PIKUBE_SERVICE" ] && echo "$PIKUBE_SERVICE $(systemctl is-active "$PIKUBE_SERVICE")"
echo "@@ boot-mount-point"; echo "$PIKUBE_BOOT"
echo "@@ boot-mount"; findmnt -n -o SOURCE,TARGET,FSTYPE --mountpoint "$PIKUBE_BOOT"
echo "@@ firstboot"; echo "$(systemctl show -p ActiveState --value pikube-firstboot.service) $(systemctl show -p Result --value pikube-firstboot.service)"
echo "@@ status"; tail -n 1 "$PIKUBE_BOOT/pikube-status.txt" 2>/dev/null
echo "@@ end"
[ -d "$RELEASE_DIR" ] && touch "$RELEASE_DIR/release"
exit 0
