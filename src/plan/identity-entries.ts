import { stringify } from 'yaml';
import type { LocalFile } from '../acquire/local-inputs.ts';
import type { Recipe } from '../config/schema.ts';
import type { ImageFacts, PlanEntry } from './types.ts';
import { makeFileEntry, makeHostContent, makeTextEntry } from './entries.ts';

export interface IdentityInputs {
  // Hashed on the host before planning (plain passwords never reach the image).
  passwordHash?: string;
  instanceId: string;
  // pikube writes this card's SSH host keys (cluster cards): nothing on the Pi may delete and remake them.
  ownHostKeys?: boolean;
  // overlay/identity/keep-host-keys.sh, read and hashed at gather time: replaces raspberrypi-sys-mods' regeneration.
  keepHostKeysScript: LocalFile;
}

// Hostname, login user, SSH keys and Wi-Fi, written the way the base honours them: cloud-init NoCloud files on
// the boot partition where the base reads them (Hypriot, Raspberry Pi OS trixie), plain files elsewhere.
export function planIdentity(recipe: Recipe, facts: ImageFacts, inputs: IdentityInputs): PlanEntry[] {
  const entries: PlanEntry[] = [];
  if (recipe.hostname || recipe.user || (inputs.ownHostKeys && facts.cloudInit)) {
    entries.push(...(facts.cloudInit ? cloudInitEntries(recipe, facts, inputs) : directEntries(recipe, inputs)));
  }
  if (recipe.wifi) entries.push(...wifiEntries(recipe.wifi, facts));
  if (facts.cloudInit && facts.networkManager && (recipe.wifi || recipe.network)) {
    entries.push(netplanEntry(recipe));
  } else if (recipe.network) {
    entries.push(...staticAddressEntries(recipe.network, facts));
  }
  if (inputs.ownHostKeys) entries.push(...keepHostKeyEntries(facts, inputs.keepHostKeysScript));
  return entries;
}

const SYS_MODS_FIRSTBOOT = 'init=/usr/lib/raspberrypi-sys-mods/firstboot';

// raspberrypi-sys-mods deletes and remakes every host key at first boot: regenerate_ssh_host_keys.service (masked
// here), and on Bookworm also its firstboot init (`init=` on the kernel command line), which calls the script
// directly. There the script is replaced by `script` (overlay/identity/keep-host-keys.sh), which keeps existing keys
// and makes only missing ones, then disables the service as the original does; a package upgrade restores the
// original, which never runs again.
function keepHostKeyEntries(facts: ImageFacts, script: LocalFile): PlanEntry[] {
  const origin = 'cluster card host keys (raspberrypi-sys-mods regeneration off)';
  const entries: PlanEntry[] = [];
  if (facts.hostKeyRegeneration) {
    entries.push({ type: 'symlink', partition: 'root', path: '/etc/systemd/system/regenerate_ssh_host_keys.service', target: '/dev/null', uid: 0, gid: 0, origin });
  }
  if (facts.cmdline?.split(/\s+/).includes(SYS_MODS_FIRSTBOOT)) {
    entries.push(makeFileEntry('root', '/usr/lib/raspberrypi-sys-mods/regenerate_ssh_host_keys', makeHostContent(script), 0o755, origin));
  }
  return entries;
}

// Raspberry Pi OS with cloud-init (Trixie): one network-config, version 2, as Raspberry Pi Imager writes it
// (customization_generator.cpp generateCloudInitNetworkConfig): eth0 (DHCP, or the recipe's static address) and
// wlan0 with the regulatory domain and the access point. cloud-init hands it to NetworkManager.
function netplanEntry(recipe: Recipe): PlanEntry {
  const { network, wifi } = recipe;
  const dhcp = { dhcp4: true, dhcp6: true, optional: true };
  const fixed = network && {
    dhcp4: false,
    addresses: [network.address],
    routes: [{ to: '0.0.0.0/0', via: network.gateway }],
    ...(network.dns.length ? { nameservers: { addresses: network.dns } } : {}),
  };
  const onWifi = network?.interface.startsWith('wl') ?? false;
  const wlanName = onWifi && network ? network.interface : 'wlan0';
  const config: Record<string, unknown> = { version: 2, ethernets: onWifi || !network ? { eth0: dhcp } : { [network.interface]: fixed } };
  if (wifi || onWifi) {
    config.wifis = {
      [wlanName]: {
        ...(onWifi ? { ...fixed, optional: true } : { dhcp4: true, optional: true }),
        ...(wifi ? { 'regulatory-domain': wifi.country, 'access-points': { [wifi.ssid]: { password: wifi.psk } } } : {}),
      },
    };
  }
  return makeTextEntry('boot', '/network-config', stringify({ network: config }), 0o644, 'recipe network/wifi (cloud-init network-config v2, as Raspberry Pi Imager)');
}

// A static IPv4 address: cloud-init's network-config where the base reads it, else the base's network manager.
function staticAddressEntries(network: NonNullable<Recipe['network']>, facts: ImageFacts): PlanEntry[] {
  const origin = 'recipe network';
  if (facts.cloudInit) {
    const config = {
      version: 1,
      config: [
        { type: 'physical', name: network.interface, subnets: [{ type: 'static', address: network.address, gateway: network.gateway, ...(network.dns.length ? { dns_nameservers: network.dns } : {}) }] },
        ...(network.dns.length ? [{ type: 'nameserver', address: network.dns }] : []),
      ],
    };
    return [makeTextEntry('boot', '/network-config', stringify(config), 0o644, `${origin} (cloud-init)`)];
  }
  if (facts.networkManager) {
    const connection = [
      '[connection]', `id=pikube-${network.interface}`, 'type=ethernet', `interface-name=${network.interface}`, 'autoconnect=true', '',
      '[ipv4]', 'method=manual', `address1=${network.address},${network.gateway}`, ...(network.dns.length ? [`dns=${network.dns.join(';')};`] : []), '',
      '[ipv6]', 'method=auto', '',
    ].join('\n');
    return [makeTextEntry('root', `/etc/NetworkManager/system-connections/pikube-${network.interface}.nmconnection`, connection, 0o600, `${origin} (NetworkManager)`)];
  }
  const [address, prefix] = network.address.split('/');
  const stanza = `auto ${network.interface}\niface ${network.interface} inet static\n    address ${address}/${prefix}\n    gateway ${network.gateway}\n${network.dns.length ? `    dns-nameservers ${network.dns.join(' ')}\n` : ''}`;
  return [makeTextEntry('root', `/etc/network/interfaces.d/${network.interface}`, stanza, 0o644, `${origin} (ifupdown)`)];
}

function cloudInitEntries(recipe: Recipe, facts: ImageFacts, inputs: IdentityInputs): PlanEntry[] {
  const config: Record<string, unknown> = {};
  const runcmd: unknown[] = [];
  const entries: PlanEntry[] = [];
  if (recipe.hostname) {
    config.hostname = recipe.hostname;
    config.manage_etc_hosts = true;
    // Hypriot's own user-data restarts avahi so that HOSTNAME.local answers with the new name (image-builder-rpi).
    if (facts.hypriot) runcmd.push('systemctl restart avahi-daemon');
  }
  if (recipe.user) {
    const user: Record<string, unknown> = {
      name: recipe.user.name,
      gecos: 'pikube user',
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
      shell: '/bin/bash',
      groups: listUserGroups(facts),
      lock_passwd: inputs.passwordHash === undefined,
    };
    if (inputs.passwordHash) user.passwd = inputs.passwordHash;
    if (recipe.user.sshAuthorizedKeys.length > 0) user.ssh_authorized_keys = recipe.user.sshAuthorizedKeys;
    config.users = [user];
    config.ssh_pwauth = inputs.passwordHash !== undefined;
    if (recipe.user.sshAuthorizedKeys.length > 0) {
      // Raspberry Pi OS ships sshd disabled and cc_ssh never enables it: Imager adds this runcmd
      // (customization_generator.cpp), and the `ssh` file is what raspberrypi-sys-mods' sshswitch looks for.
      runcmd.push(['systemctl', 'enable', '--now', 'ssh']);
      entries.push(makeTextEntry('boot', '/ssh', '', 0o644, 'recipe user.sshAuthorizedKeys (enables sshd)'));
    }
  }
  if (inputs.ownHostKeys) {
    // cc_ssh deletes and remakes host keys on an instance's first boot unless told not to.
    config.ssh_deletekeys = false;
    config.ssh_genkeytypes = [];
  }
  if (runcmd.length > 0) config.runcmd = runcmd;
  const metaData = { 'instance-id': inputs.instanceId, ...(recipe.hostname ? { 'local-hostname': recipe.hostname } : {}) };
  return [
    ...entries,
    makeTextEntry('boot', '/user-data', `#cloud-config\n${stringify(config)}`, 0o644, 'recipe hostname/user (cloud-init)'),
    makeTextEntry('boot', '/meta-data', stringify(metaData), 0o644, 'recipe hostname/user (cloud-init)'),
  ];
}

// The login user's groups: the usual Raspberry Pi ones, plus docker and input where the base has them (Hypriot's
// own user-data puts its user in users,docker,video,input); a group the base lacks would fail useradd.
function listUserGroups(facts: ImageFacts): string {
  const wanted = ['users', 'adm', 'sudo', 'video', 'docker', 'input'];
  return wanted.filter((group) => ['users', 'adm', 'sudo', 'video'].includes(group) || facts.groups[group] !== undefined).join(',');
}

function directEntries(recipe: Recipe, inputs: IdentityInputs): PlanEntry[] {
  const entries: PlanEntry[] = [];
  if (recipe.hostname) {
    entries.push(makeTextEntry('root', '/etc/hostname', `${recipe.hostname}\n`, 0o644, 'recipe hostname'));
    entries.push(makeTextEntry('root', '/etc/hosts', `127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n127.0.1.1\t${recipe.hostname}\n`, 0o644, 'recipe hostname'));
  }
  if (recipe.user) {
    if (inputs.passwordHash) entries.push(makeTextEntry('boot', '/userconf.txt', `${recipe.user.name}:${inputs.passwordHash}\n`, 0o644, 'recipe user (Raspberry Pi OS userconf)'));
    if (recipe.user.sshAuthorizedKeys.length > 0) {
      entries.push(makeTextEntry('boot', '/ssh', '', 0o644, 'recipe user.sshAuthorizedKeys (enables sshd)'));
      entries.push(makeTextEntry('root', '/etc/ssh/sshd_config.d/50-pikube-keys.conf', 'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/authorized_keys/%u\n', 0o644, 'recipe user.sshAuthorizedKeys'));
      entries.push(makeTextEntry('root', `/etc/ssh/authorized_keys/${recipe.user.name}`, `${recipe.user.sshAuthorizedKeys.join('\n')}\n`, 0o644, 'recipe user.sshAuthorizedKeys'));
    }
  }
  return entries;
}

// On-board Wi-Fi's rfkill names on Pi 3/Zero 2 W and Pi 4/400/CM4, the state files pi-gen used to write.
const RFKILL_WLAN = ['platform-3f300000.mmcnr:wlan', 'platform-fe300000.mmcnr:wlan'];

// What raspi-config's do_wifi_country leaves on a Raspberry Pi OS card: the radio on in NetworkManager's state
// (pi-gen writes WirelessEnabled=false when no country is set; `nmcli radio wifi on` writes true) and the on-board
// adapters unblocked in systemd-rfkill's saved state. The regulatory domain goes on the kernel command line
// (kernel-cmdline.ts).
function radioOnEntries(): PlanEntry[] {
  const origin = 'recipe wifi.country (radio on, as raspi-config do_wifi_country)';
  return [
    makeTextEntry('root', '/var/lib/NetworkManager/NetworkManager.state', '[main]\nNetworkingEnabled=true\nWirelessEnabled=true\nWWANEnabled=true\n', 0o644, origin),
    ...RFKILL_WLAN.map((name) => makeTextEntry('root', `/var/lib/systemd/rfkill/${name}`, '0\n', 0o644, origin)),
  ];
}

function wifiEntries(wifi: NonNullable<Recipe['wifi']>, facts: ImageFacts): PlanEntry[] {
  if (facts.networkManager && facts.cloudInit) return radioOnEntries();
  if (facts.networkManager) {
    const connection = [
      '[connection]', 'id=pikube-wifi', 'type=wifi', 'autoconnect=true', '',
      '[wifi]', 'mode=infrastructure', `ssid=${wifi.ssid}`, '',
      '[wifi-security]', 'key-mgmt=wpa-psk', `psk=${wifi.psk}`, '',
      '[ipv4]', 'method=auto', '', '[ipv6]', 'method=auto', '',
    ].join('\n');
    return [makeTextEntry('root', '/etc/NetworkManager/system-connections/pikube-wifi.nmconnection', connection, 0o600, 'recipe wifi (NetworkManager)'), ...radioOnEntries()];
  }
  const supplicant = `ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nupdate_config=1\ncountry=${wifi.country}\n\nnetwork={\n\tssid=${JSON.stringify(wifi.ssid)}\n\tpsk=${JSON.stringify(wifi.psk)}\n}\n`;
  return [
    makeTextEntry('root', '/etc/wpa_supplicant/wpa_supplicant.conf', supplicant, 0o600, 'recipe wifi (wpa_supplicant)'),
    makeTextEntry('root', '/etc/network/interfaces.d/wlan0', 'allow-hotplug wlan0\niface wlan0 inet dhcp\n    wpa-conf /etc/wpa_supplicant/wpa_supplicant.conf\n', 0o644, 'recipe wifi (ifupdown)'),
  ];
}
