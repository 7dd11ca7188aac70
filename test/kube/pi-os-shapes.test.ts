import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { locateOverlayScript } from '../../src/acquire/overlay-scripts.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readBootFile, readRootFile, statInImage } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe, TEST_SSH_KEY } from '../helpers/recipe.ts';

// Each test builds on a base shaped like one release (examples/make-demo-base.ts `os`) and checks what a user of
// that release would find on the card: files, modes, owners, the kernel command line and cloud-init's seed.
const KEY = TEST_SSH_KEY;
const NM_STATE = '/var/lib/NetworkManager/NetworkManager.state';
const RFKILL = ['/var/lib/systemd/rfkill/platform-3f300000.mmcnr:wlan', '/var/lib/systemd/rfkill/platform-fe300000.mmcnr:wlan'];
const CLOCK = '/var/lib/systemd/timesync/clock';
const CGROUP_V1 = '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-pikube-cgroup-v1.conf';
const TIMESYNC_UID = 992;

function countWords(line: string, word: string): number {
  return line.trim().split(/\s+/).filter((w) => w === word).length;
}

test('Trixie (cloud-init, NetworkManager): Wi-Fi in network-config v2 with its country, radio on, sshd enabled, timesyncd seeded, cgroup v2 left alone', async (t) => {
  const { dir } = await makeBase(t, { os: 'trixie' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, hostname: 'pi-trixie',
    user: { name: 'pi', sshAuthorizedKeys: [KEY] },
    wifi: { ssid: 'home net', psk: 'long-enough-psk', country: 'DE' },
    network: { address: '10.0.0.7/24', gateway: '10.0.0.1', dns: ['10.0.0.1'] },
    kubernetes: {},
  });
  const output = join(dir, 'trixie.img');
  const started = Math.floor(Date.now() / 1000);
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  t.notRegex(result.stderr, /mDNS name/, 'a static address needs no mDNS warning');

  const network = parse(await readBootFile(output, '/network-config') ?? '') as { network: { version: number; ethernets: Record<string, { addresses: string[]; routes: Array<{ via: string }> }>; wifis: Record<string, Record<string, unknown>> } };
  t.is(network.network.version, 2);
  t.deepEqual(network.network.ethernets.eth0?.addresses, ['10.0.0.7/24']);
  t.is(network.network.ethernets.eth0?.routes[0]?.via, '10.0.0.1');
  t.like(network.network.wifis.wlan0, { dhcp4: true, 'regulatory-domain': 'DE', 'access-points': { 'home net': { password: 'long-enough-psk' } } });
  const cmdline = await readBootFile(output, '/cmdline.txt') ?? '';
  t.is(cmdline.split('\n').filter(Boolean).length, 1);
  t.is(countWords(cmdline, 'cfg80211.ieee80211_regdom=DE'), 1);
  t.is(countWords(cmdline, 'cgroup_enable=memory'), 1);

  const userData = parse(await readBootFile(output, '/user-data') ?? '') as { runcmd: unknown[]; ssh_pwauth: boolean; users: Array<{ groups: string }> };
  t.deepEqual(userData.runcmd, [['systemctl', 'enable', '--now', 'ssh']], 'sshd enabled as Raspberry Pi Imager does');
  t.false(userData.ssh_pwauth);
  t.is(await readBootFile(output, '/ssh'), '', 'the ssh flag file for sshswitch');

  const stats = await statInImage(output, [NM_STATE, ...RFKILL, CLOCK, '/var/lib/systemd/timesync', CGROUP_V1,
    '/etc/NetworkManager/system-connections/pikube-wifi.nmconnection', '/etc/NetworkManager/system-connections/pikube-eth0.nmconnection']);
  t.like(stats.get(NM_STATE), { type: 'regular', mode: 0o644, uid: 0, gid: 0 });
  t.regex((await readRootFile(output, NM_STATE, dir))?.toString() ?? '', /^\[main\]\n(.*\n)*WirelessEnabled=true\n/);
  for (const path of RFKILL) {
    t.like(stats.get(path), { mode: 0o644, uid: 0 }, path);
    t.is((await readRootFile(output, path, dir))?.toString(), '0\n', path);
  }
  t.is(stats.get('/etc/NetworkManager/system-connections/pikube-wifi.nmconnection'), undefined, 'cloud-init renders the Wi-Fi itself');
  t.is(stats.get('/etc/NetworkManager/system-connections/pikube-eth0.nmconnection'), undefined);
  t.like(stats.get(CLOCK), { type: 'regular', mode: 0o644, uid: TIMESYNC_UID, gid: TIMESYNC_UID });
  t.like(stats.get('/var/lib/systemd/timesync'), { type: 'directory', uid: TIMESYNC_UID });
  t.true((stats.get(CLOCK)?.mtime ?? 0) >= started - 2, 'the clock file carries the build time as its mtime');
  t.is(stats.get(CGROUP_V1), undefined, 'Trixie runs cgroup v2: no failCgroupV1 drop-in');
  const config = parse((await readRootFile(output, '/etc/rancher/k3s/config.yaml', dir))?.toString() ?? '') as Record<string, unknown>;
  t.is(config['prefer-bundled-bin'], undefined, 'Trixie\'s iptables is fine');
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);
});

test('Bookworm (NetworkManager, no cloud-init): Wi-Fi connection plus country on the command line, radio on, ssh flag file, both clocks seeded, and the mDNS kubeconfig warning', async (t) => {
  const { dir } = await makeBase(t, { os: 'bookworm' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, hostname: 'pi-bookworm',
    user: { name: 'pi', sshAuthorizedKeys: [KEY] },
    wifi: { ssid: 'home', psk: 'long-enough-psk', country: 'GB' },
    kubernetes: {},
  });
  const output = join(dir, 'bookworm.img');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stderr, /reaches the server as pi-bookworm\.local, an mDNS name that kubectl on Linux cannot resolve/);
  t.regex(result.stderr, /static `network\.address`/);
  t.regex(result.stderr, /config set-cluster pi-bookworm --server=https:\/\/\$\(getent ahostsv4 pi-bookworm\.local \| awk 'NR==1\{print \$1\}'\):6443 --tls-server-name=pi-bookworm\.local/);

  t.is(await readBootFile(output, '/user-data'), undefined, 'no cloud-init seed on Bookworm');
  t.is(await readBootFile(output, '/ssh'), '', 'sshswitch turns sshd on');
  const cmdline = await readBootFile(output, '/cmdline.txt') ?? '';
  t.is(countWords(cmdline, 'cfg80211.ieee80211_regdom=GB'), 1);
  const stats = await statInImage(output, ['/etc/NetworkManager/system-connections/pikube-wifi.nmconnection', NM_STATE, ...RFKILL, CLOCK, '/etc/fake-hwclock.data', CGROUP_V1]);
  t.like(stats.get('/etc/NetworkManager/system-connections/pikube-wifi.nmconnection'), { mode: 0o600, uid: 0, gid: 0 });
  t.like(stats.get(NM_STATE), { mode: 0o644, uid: 0 });
  t.regex((await readRootFile(output, NM_STATE, dir))?.toString() ?? '', /WirelessEnabled=true/);
  t.notRegex((await readRootFile(output, NM_STATE, dir))?.toString() ?? '', /WirelessEnabled=false/);
  for (const path of RFKILL) t.is((await readRootFile(output, path, dir))?.toString(), '0\n', path);
  t.like(stats.get('/etc/fake-hwclock.data'), { type: 'regular' });
  t.like(stats.get(CLOCK), { type: 'regular', uid: TIMESYNC_UID });
  t.is(stats.get(CGROUP_V1), undefined);

  const second = join(dir, 'again.img');
  const again = await runCli(['build', '-c', await writeRecipe(dir, { base: 'bookworm.img', wifi: { ssid: 'home', psk: 'long-enough-psk', country: 'FR' } }), '-o', second], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(again.exitCode, 0, again.stderr);
  const cmdline2 = await readBootFile(second, '/cmdline.txt') ?? '';
  t.is(countWords(cmdline2, 'cfg80211.ieee80211_regdom=FR'), 1, 'a new country replaces the old one');
  t.false(cmdline2.includes('regdom=GB'));
});

test('Hypriot (cloud-init 0.7, ifupdown): its user-data runcmd and docker group kept, bundled iptables, failCgroupV1 on its cgroup v1', async (t) => {
  const { dir } = await makeBase(t, { os: 'hypriot' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.35.8+k3s1', 'armhf');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, hostname: 'pi-hypriot', board: 'pi3',
    user: { name: 'pirate', sshAuthorizedKeys: [KEY] },
    wifi: { ssid: 'home', psk: 'long-enough-psk', country: 'NL' },
    kubernetes: { version: 'v1.35.8+k3s1' },
  });
  const output = join(dir, 'hypriot.img');
  const result = await runCli(['build', '-c', recipe, '-o', output], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  const userData = parse(await readBootFile(output, '/user-data') ?? '') as { hostname: string; runcmd: unknown[]; users: Array<{ name: string; groups: string }> };
  t.is(userData.hostname, 'pi-hypriot');
  t.true(userData.runcmd.includes('systemctl restart avahi-daemon'), 'Hypriot\'s avahi restart after the hostname change');
  t.deepEqual(userData.users[0]?.groups.split(',').sort(), ['adm', 'docker', 'input', 'sudo', 'users', 'video']);
  const config = parse((await readRootFile(output, '/etc/rancher/k3s/config.yaml', dir))?.toString() ?? '') as Record<string, unknown>;
  t.true(config['prefer-bundled-bin'], 'k3s\'s own iptables, not Buster\'s 1.8.2');
  const stats = await statInImage(output, [CGROUP_V1, '/etc/wpa_supplicant/wpa_supplicant.conf', '/etc/network/interfaces.d/wlan0', NM_STATE]);
  t.like(stats.get(CGROUP_V1), { type: 'regular', mode: 0o644 }, 'k3s 1.35 on cgroup v1 needs failCgroupV1: false');
  t.like(stats.get('/etc/wpa_supplicant/wpa_supplicant.conf'), { mode: 0o600 });
  t.regex((await readRootFile(output, '/etc/wpa_supplicant/wpa_supplicant.conf', dir))?.toString() ?? '', /^country=NL$/m);
  t.truthy(stats.get('/etc/network/interfaces.d/wlan0'));
  t.is(stats.get(NM_STATE), undefined, 'no NetworkManager on Hypriot');
  t.is(countWords(await readBootFile(output, '/cmdline.txt') ?? '', 'cfg80211.ieee80211_regdom=NL'), 1);
  t.regex(await readBootFile(output, '/fake-hwclock.data') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/);
});

test('a recipe naming an ARMv6 board (Pi Zero W) is refused with Kubernetes before anything is written, and accepted without it', async (t) => {
  const { dir } = await makeBase(t, { os: 'hypriot' });
  const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'zero', board: 'pi-zero-w', kubernetes: {} });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'zero.img')], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /board: pi-zero-w has an ARMv6 CPU, and k3s \(armhf\) and the static profile \(arm64\) need ARMv7 or later/);
  t.deepEqual((await readdir(dir)).filter((name) => name.startsWith('zero') || name.startsWith('.')), []);
  const unknown = await runCli(['plan', '-c', await writeRecipe(dir, { base: 'base.img', board: 'pi9' })]);
  t.is(unknown.exitCode, 1);
  t.regex(unknown.stderr, /board/);
  const plain = await runCli(['build', '-c', await writeRecipe(dir, { base: 'base.img', hostname: 'zero', board: 'pi-zero-w' }), '-o', join(dir, 'zero.img')]);
  t.is(plain.exitCode, 0, plain.stderr);
});

test('cluster cards on Trixie keep pikube\'s host keys (cloud-init and raspberrypi-sys-mods told not to remake them); a card joining HOST.local pins it before k3s starts', async (t) => {
  const { dir } = await makeBase(t, { os: 'trixie' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url,
    user: { name: 'pi', sshAuthorizedKeys: [KEY] },
    kubernetes: {},
    cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'pi-2', role: 'agent' }] },
  });
  const out = join(dir, 'cluster');
  const result = await runCli(['build', '-c', recipe, '-o', out], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stderr, /reaches the server as pi-1\.local/);
  const dropIn = '/etc/systemd/system/k3s-agent.service.d/10-pikube-server-address.conf';
  for (const host of ['pi-1', 'pi-2']) {
    const image = join(out, `${host}.img`);
    const stats = await statInImage(image, ['/etc/systemd/system/regenerate_ssh_host_keys.service', '/etc/ssh/ssh_host_ed25519_key', dropIn, '/usr/local/lib/pikube/pin-server.sh']);
    t.like(stats.get('/etc/systemd/system/regenerate_ssh_host_keys.service'), { type: 'symlink', linkTarget: '/dev/null' }, host);
    t.like(stats.get('/etc/ssh/ssh_host_ed25519_key'), { mode: 0o600, uid: 0 }, host);
    const userData = parse(await readBootFile(image, '/user-data') ?? '') as Record<string, unknown>;
    t.is(userData.ssh_deletekeys, false, host);
    t.deepEqual(userData.ssh_genkeytypes, [], host);
    if (host === 'pi-2') {
      t.like(stats.get(dropIn), { mode: 0o644, uid: 0 });
      t.regex((await readRootFile(image, dropIn, dir))?.toString() ?? '', /^ExecStartPre=-\/usr\/local\/lib\/pikube\/pin-server\.sh pi-1\.local$/m);
      t.like(stats.get('/usr/local/lib/pikube/pin-server.sh'), { type: 'regular', mode: 0o755, uid: 0 });
      t.deepEqual(await readRootFile(image, '/usr/local/lib/pikube/pin-server.sh', dir), await readFile(locateOverlayScript('pinServer')), 'the card gets overlay/k3s/pin-server.sh byte for byte');
      t.regex((await readRootFile(image, '/etc/pikube/firstboot.env', dir))?.toString() ?? '', /^PIKUBE_SERVER_HOST=pi-1\.local$/m);
    } else {
      t.is(stats.get(dropIn), undefined, 'the first server joins nobody');
    }
  }
});

test('cluster cards on Bookworm keep their host keys through raspberrypi-sys-mods\' firstboot init too; a server with a static address needs no pin', async (t) => {
  const { dir } = await makeBase(t, { os: 'bookworm' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.36.4+k3s1', 'arm64');
  const recipe = await writeRecipe(dir, {
    base: 'base.img', mirror: mirror.url, kubernetes: {},
    cluster: { nodes: [{ hostname: 'pi-1', role: 'server', network: { address: '192.168.1.50/24', gateway: '192.168.1.1' } }, { hostname: 'pi-2' }] },
  });
  const result = await runCli(['plan', '-c', recipe, '--json'], { env: { PIKUBE_CACHE: join(dir, 'cache') } });
  t.is(result.exitCode, 0, result.stderr);
  const cards = JSON.parse(result.stdout) as Array<{ hostname: string; plan: { entries: Array<{ path: string; type: string; target?: string; mode?: number; content?: { text?: string; path?: string; sha256?: string } }> } }>;
  const keepHostKeys = await readFile(locateOverlayScript('keepHostKeys'));
  t.deepEqual(cards.map((c) => c.hostname), ['pi-1', 'pi-2']);
  for (const card of cards) {
    const at = (path: string) => card.plan.entries.find((e) => e.path === path);
    t.like(at('/etc/systemd/system/regenerate_ssh_host_keys.service'), { type: 'symlink', target: '/dev/null' }, card.hostname);
    const script = at('/usr/lib/raspberrypi-sys-mods/regenerate_ssh_host_keys');
    t.like(script, { type: 'file', mode: 0o755, content: { path: locateOverlayScript('keepHostKeys'), sha256: createHash('sha256').update(keepHostKeys).digest('hex') } }, card.hostname);
    t.notRegex(keepHostKeys.toString(), /rm -f/, 'the replacement deletes no key');
    t.regex(keepHostKeys.toString(), /^ssh-keygen -A/m);
    t.is(at('/etc/systemd/system/k3s-agent.service.d/10-pikube-server-address.conf'), undefined, card.hostname);
  }
  const config = cards[1]?.plan.entries.find((e) => e.path === '/etc/rancher/k3s/config.yaml')?.content?.text ?? '';
  t.regex(config, /^server: https:\/\/192\.168\.1\.50:6443$/m);
});

test('Trixie Wi-Fi without a static address keeps eth0 on DHCP beside wlan0, as Imager writes it', async (t) => {
  const { dir } = await makeBase(t, { os: 'trixie' });
  const recipe = await writeRecipe(dir, { base: 'base.img', wifi: { ssid: 'cafe', psk: 'long-enough-psk', country: 'US' } });
  const result = await runCli(['plan', '-c', recipe, '--json']);
  t.is(result.exitCode, 0, result.stderr);
  const plan = JSON.parse(result.stdout) as { entries: Array<{ path: string; partition: string; content?: { text?: string } }> };
  const text = (path: string) => plan.entries.find((e) => e.partition === 'boot' && e.path === path)?.content?.text ?? '';
  t.deepEqual(parse(text('/network-config')), {
    network: {
      version: 2,
      ethernets: { eth0: { dhcp4: true, dhcp6: true, optional: true } },
      wifis: { wlan0: { dhcp4: true, optional: true, 'regulatory-domain': 'US', 'access-points': { cafe: { password: 'long-enough-psk' } } } },
    },
  });
  t.regex(text('/cmdline.txt'), /rootwait cfg80211\.ieee80211_regdom=US\n$/);
  t.false(plan.entries.some((e) => e.path.endsWith('.nmconnection')));
});
