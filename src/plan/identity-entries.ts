import { stringify } from 'yaml';
import type { Recipe } from '../config/schema.ts';
import type { ImageFacts, PlanEntry } from './types.ts';
import { makeTextEntry } from './entries.ts';

export interface IdentityInputs {
  // Hashed on the host before planning (plain passwords never reach the image).
  passwordHash?: string;
  instanceId: string;
}

// Hostname, login user, SSH keys and Wi-Fi, written the way the base honours them: cloud-init NoCloud files on
// the boot partition where the base reads them (Hypriot, Raspberry Pi OS trixie), plain files elsewhere.
export function planIdentity(recipe: Recipe, facts: ImageFacts, inputs: IdentityInputs): PlanEntry[] {
  const entries: PlanEntry[] = [];
  if (recipe.hostname || recipe.user) {
    entries.push(...(facts.cloudInit ? cloudInitEntries(recipe, inputs) : directEntries(recipe, inputs)));
  }
  if (recipe.wifi) entries.push(...wifiEntries(recipe.wifi, facts));
  if (recipe.network) entries.push(...staticAddressEntries(recipe.network, facts));
  return entries;
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

function cloudInitEntries(recipe: Recipe, inputs: IdentityInputs): PlanEntry[] {
  const config: Record<string, unknown> = {};
  if (recipe.hostname) {
    config.hostname = recipe.hostname;
    config.manage_etc_hosts = true;
  }
  if (recipe.user) {
    const user: Record<string, unknown> = {
      name: recipe.user.name,
      gecos: 'pikube user',
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
      shell: '/bin/bash',
      groups: 'users,adm,sudo,video',
      lock_passwd: inputs.passwordHash === undefined,
    };
    if (inputs.passwordHash) user.passwd = inputs.passwordHash;
    if (recipe.user.sshAuthorizedKeys.length > 0) user.ssh_authorized_keys = recipe.user.sshAuthorizedKeys;
    config.users = [user];
    config.ssh_pwauth = inputs.passwordHash !== undefined;
  }
  const metaData = { 'instance-id': inputs.instanceId, ...(recipe.hostname ? { 'local-hostname': recipe.hostname } : {}) };
  return [
    makeTextEntry('boot', '/user-data', `#cloud-config\n${stringify(config)}`, 0o644, 'recipe hostname/user (cloud-init)'),
    makeTextEntry('boot', '/meta-data', stringify(metaData), 0o644, 'recipe hostname/user (cloud-init)'),
  ];
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

function wifiEntries(wifi: NonNullable<Recipe['wifi']>, facts: ImageFacts): PlanEntry[] {
  if (facts.networkManager) {
    const connection = [
      '[connection]', 'id=pikube-wifi', 'type=wifi', 'autoconnect=true', '',
      '[wifi]', 'mode=infrastructure', `ssid=${wifi.ssid}`, '',
      '[wifi-security]', 'key-mgmt=wpa-psk', `psk=${wifi.psk}`, '',
      '[ipv4]', 'method=auto', '', '[ipv6]', 'method=auto', '',
    ].join('\n');
    return [makeTextEntry('root', '/etc/NetworkManager/system-connections/pikube-wifi.nmconnection', connection, 0o600, 'recipe wifi (NetworkManager)')];
  }
  const supplicant = `ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nupdate_config=1\ncountry=${wifi.country}\n\nnetwork={\n\tssid=${JSON.stringify(wifi.ssid)}\n\tpsk=${JSON.stringify(wifi.psk)}\n}\n`;
  return [
    makeTextEntry('root', '/etc/wpa_supplicant/wpa_supplicant.conf', supplicant, 0o600, 'recipe wifi (wpa_supplicant)'),
    makeTextEntry('root', '/etc/network/interfaces.d/wlan0', 'allow-hotplug wlan0\niface wlan0 inet dhcp\n    wpa-conf /etc/wpa_supplicant/wpa_supplicant.conf\n', 0o644, 'recipe wifi (ifupdown)'),
  ];
}
