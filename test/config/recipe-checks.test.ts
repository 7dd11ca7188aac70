import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parseRecipe } from '../../src/config/load-recipe.ts';
import { COUNTRY_CODES } from '../../src/config/country-code.ts';
import { UserError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { makeTempDir } from '../helpers/temp.ts';

function problems(text: string): string {
  try {
    parseRecipe(text, 'r.yaml');
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
  return '';
}

const YAML_ERRORS: Array<[string, string, RegExp]> = [
  ['an alias with no anchor', 'base: b.img\nhostname: *nope\n', /line 2, column 11: the alias \*nope has no anchor &nope above it/],
  ['a duplicate key', 'base: b.img\nhostname: a\nhostname: b\n', /line 3, column 1: this key is already set above/],
  ['bad indentation', 'base: b.img\nuser:\n  name: pi\n password: x\n', /line 4, column 1: All mapping items must start at the same column/],
  ['a tab as indentation', 'base: b.img\nuser:\n\tname: pi\n', /line 3, column 1: tabs are not allowed as indentation/],
  ['an unclosed quote', 'base: "b.img\nhostname: pi\n', /line \d+, column \d+: Missing closing "quote/],
  ['several documents', 'base: b.img\n---\nbase: c.img\n', /line 2, column 1: a recipe is one YAML document/],
  ['an alias inside its own anchor', 'base: b.img\nfiles: &f [*f]\n', /line 2, column 12: the alias \*f is inside the value it names/],
  ['a map as a key', 'base: b.img\n? {a: 1}\n: x\n', /line 2, column 3: a key must be a plain word/],
  ['an unknown tag', 'base: !secret b.img\n', /line 1, column 7: .*a recipe needs no YAML tags/],
  ['an alias bomb', `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nbase: x\n`, /aliases expand to too much data/],
  ['nesting too deep to read', `base: ${'['.repeat(20000)}${']'.repeat(20000)}\n`, /line 1, column \d+: the YAML is nested too deeply to read/],
];

for (const [what, text, expected] of YAML_ERRORS) {
  test(`a recipe with ${what} is a recipe error with line and column, not a crash`, (t) => {
    const error = t.throws(() => parseRecipe(text, 'r.yaml'));
    t.true(error instanceof UserError, `${error?.name}: ${error?.message}`);
    t.regex(error?.message ?? '', /^r\.yaml has \d+ problems?:/);
    t.regex(error?.message ?? '', expected);
  });
}

test('the CLI reports an undefined alias as a recipe error naming the file, line and column (exit 1, not 70)', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'pikube.yaml'), 'base: b.img\nhostname: *nope\n');
  const result = await runCli(['plan'], { cwd: dir });
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /pikube\.yaml has 1 problem:\s+line 2, column 11: the alias \*nope has no anchor/);
  t.notRegex(result.stderr, /bug in pikube/);
});

test('wifi.country takes any assigned ISO 3166-1 alpha-2 code in either case, upper-cased; UK, EL and unassigned codes are refused', (t) => {
  const wifi = (country: string) => `base: b.img\nwifi: { ssid: home, psk: long-enough, country: ${country} }\n`;
  t.is(parseRecipe(wifi('de')).wifi?.country, 'DE');
  t.is(parseRecipe(wifi('GB')).wifi?.country, 'GB');
  t.is(Object.keys(COUNTRY_CODES).length, 249);
  for (const code of Object.keys(COUNTRY_CODES)) t.is(parseRecipe(wifi(code)).wifi?.country, code);
  t.regex(problems(wifi('UK')), /line 2: wifi\.country: UK is not an ISO 3166-1 country code: use GB \(United Kingdom\)/);
  t.regex(problems(wifi('el')), /use GR \(Greece\)/);
  t.regex(problems(wifi('XX')), /wifi\.country: XX is not an assigned ISO 3166-1 country code/);
  t.regex(problems(wifi('EU')), /EU is not an assigned/);
  t.regex(problems(wifi('GBR')), /is not a two-letter ISO 3166-1 country code/);
});

test('the country list matches the system\'s tzdata iso3166.tab, the list raspi-config offers', async (t) => {
  const tab = await readFile('/usr/share/zoneinfo/iso3166.tab', 'utf8').catch(() => undefined);
  if (!tab) return t.pass('no tzdata here');
  const codes = tab.split('\n').filter((line) => /^[A-Z]{2}\t/.test(line)).map((line) => line.slice(0, 2)).sort();
  t.deepEqual(Object.keys(COUNTRY_CODES).sort(), codes);
});

function sshString(value: Buffer | string): Buffer {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(bytes.length);
  return Buffer.concat([size, bytes]);
}

function keyLine(type: string, ...fields: Array<Buffer | string>): string {
  return `${type} ${Buffer.concat([sshString(type), ...fields.map(sshString)]).toString('base64')} me@laptop`;
}

test('SSH keys are parsed: real keys of every type pass, garbage, cut or mislabelled keys are refused with why', async (t) => {
  const dir = await makeTempDir(t);
  const real: string[] = [];
  for (const [type, bits] of [['ed25519', ''], ['ecdsa', '384'], ['rsa', '3072']] as const) {
    const path = join(dir, `id_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', 'me@laptop', '-f', path]);
    real.push((await readFile(`${path}.pub`, 'utf8')).trim());
  }
  const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]);
  const accepted = [
    ...real,
    keyLine('sk-ssh-ed25519@openssh.com', Buffer.alloc(32, 1), 'ssh:'),
    keyLine('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', point, 'ssh:'),
    `from="192.168.1.0/24",no-pty,command="echo \\"hi there\\"" ${real[0]}`,
    (real[0] ?? '').split(' ').slice(0, 2).join(' '),
  ];
  const user = (keys: string[]) => `base: b.img\nuser:\n  name: pi\n  sshAuthorizedKeys:\n${keys.map((k) => `    - ${JSON.stringify(k)}\n`).join('')}`;
  t.deepEqual(parseRecipe(user(accepted)).user?.sshAuthorizedKeys, accepted);

  const ed = real[0] ?? '';
  const body = ed.split(' ')[1] ?? '';
  const refused: Array<[string, RegExp]> = [
    ['ssh-ed25519 AAAAgarbage!! me', /is not valid base64/],
    [`ssh-ed25519 ${body.slice(0, -8)} me`, /not valid base64|is damaged/],
    [`ssh-rsa ${body} me`, /the line says ssh-rsa but the key inside is "ssh-ed25519"/],
    [keyLine('ssh-ed25519', Buffer.alloc(31)), /the ssh-ed25519 key is damaged/],
    [keyLine('ssh-ed25519', Buffer.alloc(32), 'extra'), /is damaged/],
    [keyLine('ecdsa-sha2-nistp256', 'nistp384', point), /is damaged/],
    [keyLine('ssh-rsa', Buffer.from([1, 0, 1]), Buffer.alloc(64, 0xff)), /RSA key has 512 bits/],
    ['ssh-dss AAAAB3NzaC1kc3MAAACBAP me', /DSA key, which OpenSSH no longer accepts/],
    [`ssh-ed25519-cert-v01@openssh.com ${body} me`, /is a certificate/],
    ['ssh-foo AAAA me', /"ssh-foo" is not an OpenSSH key type/],
    ['ssh-ed25519', /has no key after ssh-ed25519/],
    [`${ed}\nssh-ed25519 ${body} second`, /must be one line/],
    ['no-pty,command="x', /unclosed quote/],
    [body, /does not start with a key type/],
  ];
  const message = problems(user(refused.map(([line]) => line)));
  for (const [i, [line, expected]] of refused.entries()) {
    const found = message.split('\n').find((row) => row.includes(`user.sshAuthorizedKeys[${i}]:`)) ?? '';
    t.regex(found, expected, `${JSON.stringify(line)} -> ${found}`);
  }
  t.regex(message, new RegExp(`has ${refused.length} problems`));
});

test('a gateway outside the address\'s subnet is refused for a single card, with its line', (t) => {
  const message = problems('base: b.img\nhostname: pi\nnetwork:\n  address: 192.168.1.50/24\n  gateway: 192.168.2.1\n');
  t.regex(message, /line 5: network\.gateway: 192\.168\.2\.1 is not inside 192\.168\.1\.50\/24's subnet/);
  t.regex(problems('base: b.img\nnetwork: { address: 192.168.1.255/24, gateway: 192.168.1.1 }\n'), /line 2: network\.address: 192\.168\.1\.255\/24 is the broadcast address/);
  t.is(parseRecipe('base: b.img\nnetwork: { address: 10.1.2.3/16, gateway: 10.1.0.1 }\n').network?.gateway, '10.1.0.1');
});

test('a base map with a wrong key says what base takes and suggests source; a wrong type says what is allowed', (t) => {
  const message = problems('base: {url: https://example.org/pi.img.xz, sha256: 0000000000000000000000000000000000000000000000000000000000000000}\n');
  t.regex(message, /line 1: base\.url: unknown key \(did you mean "source"\?\); allowed here: source, sha256, entry/);
  t.regex(message, /line 1: base\.source: is required/);
  t.notRegex(message, /Invalid input/);
  t.regex(problems('base: [a, b]\n'), /line 1: base: must be a catalog name, an https URL or a path .*or a map with `source:`.*\(got a list\)/);
  t.regex(problems('hostname: pi\n'), /base: is required: must be a catalog name/);
  t.regex(problems('base: b.img\nfiles:\n  - { path: /a, content: x, mode: true }\n'), /line 3: files\[0\]\.mode: must be an octal mode such as "0644" \(got true\)/);
});

test('enum errors list what is allowed and suggest the nearest', (t) => {
  const message = problems('base: b.img\nhostname: pi\nkubernetes:\n  disable: [traefic]\nfiles:\n  - { partition: bot, path: /a, content: x }\n');
  t.regex(message, /line 4: kubernetes\.disable\[0\]: "traefic" is not allowed here; allowed: coredns, servicelb, traefik, local-storage, metrics-server, runtimes \(did you mean "traefik"\?\)/);
  t.regex(message, /line 6: files\[0\]\.partition: "bot" is not allowed here; allowed: boot, root \(did you mean "boot"\?\)/);
});

test('version and Kubernetes rules are reported in the same pass as unrelated schema errors', (t) => {
  const message = problems('base: b.img\nhostname: pi\nwifi: { ssid: home, psk: short, country: GB }\nkubernetes:\n  version: v1.36.0\n');
  t.regex(message, /has 2 problems/);
  t.regex(message, /line 3: wifi\.psk: a WPA passphrase/);
  t.regex(message, /line 5: kubernetes\.version: v1\.36\.0 is not a k3s release: k3s versions look like v1\.34\.11\+k3s1/);
  const staticVersion = problems('base: b.img\nhostname: Bad_Name\nkubernetes:\n  distribution: static\n  version: v1.29.5\n');
  t.regex(staticVersion, /line 2: hostname: must be 1-63/);
  t.regex(staticVersion, /line 5: kubernetes\.version: Kubernetes v1\.29\.5 is not supported by the static profile \(it supports 1\.30–1\.37\)/);
  const cluster = problems('base: b.img\nkubernetes: {}\nuser: { name: Pi }\ncluster:\n  nodes:\n    - { hostname: pi-1, role: server }\n    - { hostname: pi-1, network: { address: 10.0.0.5/24, gateway: 10.9.0.1 } }\n');
  t.regex(cluster, /line 3: user\.name: must be a Linux user name/);
  t.regex(cluster, /line 7: cluster\.nodes\[1\]\.hostname: pi-1 is already the hostname of nodes\[0\]/);
  t.regex(cluster, /line 7: cluster\.nodes\[1\]\.network\.gateway: 10\.9\.0\.1 is not inside/);
});
