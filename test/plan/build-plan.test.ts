import test from 'ava';
import { parse } from 'yaml';
import { recipeSchema } from '../../src/config/schema.ts';
import { UserError } from '../../src/errors.ts';
import { buildPlan, type PlanInputs } from '../../src/plan/build-plan.ts';
import type { FileEntry, PlanEntry } from '../../src/plan/types.ts';
import { trixieFacts } from '../helpers/plan-facts.ts';
import { TEST_SSH_KEY } from '../helpers/recipe.ts';

// The plan is a pure function: these tests give it facts and inputs as plain data (no image, no tool, no disk) and
// read the entries it returns, so they run in milliseconds.

// pikube's keep-host-keys script as gathering hands it over (read and hashed): the plan only names it.
const KEEP_HOST_KEYS = { hostPath: '/pikube/overlay/identity/keep-host-keys.sh', size: 700, mode: 0o755, sha256: 'e'.repeat(64) };

function inputs(overrides: Partial<PlanInputs> = {}): PlanInputs {
  return {
    pikubeVersion: '0.0.0-test', recipeSha256: 'a'.repeat(64), builtAt: '2026-01-01T00:00:00.000Z', instanceId: 'pikube-test',
    baseInput: { role: 'base', name: 'trixie.img', sha256: 'b'.repeat(64) }, overlay: [], sources: new Map(), keepHostKeysScript: KEEP_HOST_KEYS, ...overrides,
  };
}

const recipeOf = (yaml: string) => recipeSchema.parse(parse(yaml));
const find = (entries: PlanEntry[], partition: 'boot' | 'root', path: string) => entries.find((e) => e.partition === partition && e.path === path);
const textOf = (entry: PlanEntry | undefined) => (entry?.type === 'file' && entry.content.kind === 'text' ? entry.content.text : undefined);

test('the same recipe, facts and inputs give the same plan, entry for entry', (t) => {
  const recipe = recipeOf(`base: trixie.img\nhostname: pi-1\nuser: { name: pi, sshAuthorizedKeys: ['${TEST_SSH_KEY}'] }\n`);
  t.deepEqual(buildPlan(recipe, trixieFacts(), inputs()), buildPlan(recipe, trixieFacts(), inputs()));
});

test('Wi-Fi on a cloud-init Raspberry Pi OS: network-config v2 with the regulatory domain, the country on the kernel command line', (t) => {
  const recipe = recipeOf('base: trixie.img\nhostname: pi-1\nwifi: { ssid: home, psk: correct-horse, country: de }\n');
  const { entries } = buildPlan(recipe, trixieFacts(), inputs());
  const { network } = parse(textOf(find(entries, 'boot', '/network-config')) ?? '') as { network: { version: number; wifis?: Record<string, { 'regulatory-domain'?: string; 'access-points'?: Record<string, unknown> }> } };
  t.is(network.version, 2);
  t.is(network.wifis?.wlan0?.['regulatory-domain'], 'DE', 'the country is upper-cased by the recipe check');
  t.truthy(network.wifis?.wlan0?.['access-points']?.home);
  t.regex(textOf(find(entries, 'boot', '/cmdline.txt')) ?? '', /^console=serial0,115200 root=PARTUUID=5452574f-02 rootwait .*cfg80211\.ieee80211_regdom=DE/);
  t.is(find(entries, 'root', '/etc/NetworkManager/system-connections/pikube-wifi.nmconnection'), undefined, 'cloud-init renders the connection itself');
});

test('a recipe file is owned as the base\'s own passwd says, and an unknown owner is refused with its recipe path', (t) => {
  const recipe = recipeOf('base: trixie.img\nfiles:\n  - { path: /home/pi/notes.txt, content: "hi\\n", owner: "pi:sudo", mode: "0600" }\n');
  const entry = find(buildPlan(recipe, trixieFacts(), inputs()).entries, 'root', '/home/pi/notes.txt') as FileEntry | undefined;
  t.like(entry, { type: 'file', uid: 1000, gid: 27, mode: 0o600 });
  const stranger = recipeOf('base: trixie.img\nfiles:\n  - { path: /srv/x, content: x, owner: nobody }\n');
  const error = t.throws(() => buildPlan(stranger, trixieFacts(), inputs()), { instanceOf: UserError });
  t.regex(error?.message ?? '', /files\[0\]/);
  t.regex(error?.message ?? '', /nobody/);
});

test('root grows only when the planned files do not fit, by the payload plus a margin', (t) => {
  const recipe = recipeOf('base: trixie.img\n');
  t.is(buildPlan(recipe, trixieFacts(), inputs()).growth, null);
  const big = { kind: 'file' as const, relative: 'opt/big.bin', hostPath: '/host/big.bin', size: 900 * 2 ** 20, sha256: 'c'.repeat(64), mode: 0o644 };
  const { growth, payloadBytes } = buildPlan(recipe, trixieFacts({ root: { ...trixieFacts().root, freeBytes: 256 * 2 ** 20 } }), inputs({ overlay: [big] }));
  t.truthy(growth);
  t.is(growth?.partition, 2);
  t.true((growth?.toBytes ?? 0) - (growth?.fromBytes ?? 0) >= payloadBytes.root - 256 * 2 ** 20, 'grown by at least what is missing');
});

test('the build record lists every input and the identity asked for', (t) => {
  const recipe = recipeOf(`base: trixie.img\nhostname: pi-9\nuser: { name: pi, sshAuthorizedKeys: ['${TEST_SSH_KEY}'] }\nnetwork: { address: 192.168.1.9/24, gateway: 192.168.1.1 }\n`);
  const record = JSON.parse(textOf(find(buildPlan(recipe, trixieFacts(), inputs()).entries, 'root', '/etc/pikube/build.json')) ?? '{}') as { inputs: Array<{ role: string }>; identity: Record<string, unknown> };
  t.deepEqual(record.inputs.map((i) => i.role), ['base']);
  t.like(record.identity, { hostname: 'pi-9', user: 'pi', sshAuthorizedKeys: 1, network: { interface: 'eth0', address: '192.168.1.9/24', gateway: '192.168.1.1' } });
});

test('a card with its own host keys on Bookworm gets pikube\'s keep-host-keys script, byte for byte, over raspberrypi-sys-mods\' regeneration', (t) => {
  const recipe = recipeOf('base: bookworm.img\nhostname: pi-2\n');
  const bookworm = trixieFacts({ cloudInit: false, cmdline: 'console=serial0,115200 root=PARTUUID=5452574f-02 rootwait init=/usr/lib/raspberrypi-sys-mods/firstboot' });
  const { entries } = buildPlan(recipe, bookworm, inputs({ ownHostKeys: true }));
  t.like(find(entries, 'root', '/usr/lib/raspberrypi-sys-mods/regenerate_ssh_host_keys'), {
    type: 'file', mode: 0o755, uid: 0, gid: 0, content: { kind: 'host', path: KEEP_HOST_KEYS.hostPath, size: KEEP_HOST_KEYS.size, sha256: KEEP_HOST_KEYS.sha256 },
  });
  t.like(find(entries, 'root', '/etc/systemd/system/regenerate_ssh_host_keys.service'), { type: 'symlink', target: '/dev/null' });
  t.is(find(buildPlan(recipe, bookworm, inputs()).entries, 'root', '/usr/lib/raspberrypi-sys-mods/regenerate_ssh_host_keys'), undefined, 'a card without its own keys keeps the original');
});
