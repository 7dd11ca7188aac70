import test from 'ava';
import { parseRecipe } from '../../src/config/load-recipe.ts';
import { UserError } from '../../src/errors.ts';

test('a recipe with several problems reports every one with its path and line, and suggests the misspelt key', (t) => {
  const text = [
    'base: ./x.img',
    'hostnme: pi',
    'user:',
    '  name: Pirate',
    'wifi: { ssid: home, psk: short, country: uk }',
    'files:',
    '  - path: etc/motd',
    '    content: hi',
    '  - path: /x',
    '    content: a',
    '    source: b',
  ].join('\n');
  const error = t.throws(() => parseRecipe(text, 'r.yaml'), { instanceOf: UserError });
  t.regex(error.message, /r\.yaml has 6 problems/);
  t.regex(error.message, /line 2: hostnme: unknown key \(did you mean "hostname"\?\)/);
  t.regex(error.message, /line 4: user\.name: must be a Linux user name/);
  t.regex(error.message, /line 5: wifi\.psk: a WPA passphrase has 8 to 63 characters/);
  t.regex(error.message, /line 5: wifi\.country: uk is not an ISO 3166-1 country code: use GB \(United Kingdom\)/);
  t.regex(error.message, /line 7: files\[0\]\.path: must be an absolute path/);
  t.regex(error.message, /files\[1\]: give exactly one of content, source or symlink \(got content and source\)/);
  t.truthy(error.hint);
});

test('modes are octal whether written as strings or bare YAML numbers', (t) => {
  const recipe = parseRecipe('base: b.img\nfiles:\n  - path: /a\n    content: x\n    mode: "0755"\n  - path: /b\n    content: y\n    mode: 600\n');
  t.is(recipe.files[0]?.mode, 0o755);
  t.is(recipe.files[1]?.mode, 0o600);
  t.is(recipe.files[1]?.partition, 'root');
});

test('FAT limits are enforced: no symlinks, modes or owners on the boot partition', (t) => {
  const error = t.throws(() => parseRecipe('base: b.img\nfiles:\n  - partition: boot\n    path: /a\n    symlink: /b\n  - partition: boot\n    path: /c\n    content: x\n    owner: root\n'));
  t.regex(error.message, /files\[0\]\.symlink: the boot partition is FAT, which has no symlinks/);
  t.regex(error.message, /files\[1\]\.owner: the boot partition is FAT/);
});

test('broken YAML is reported with its line, not a stack trace', (t) => {
  const error = t.throws(() => parseRecipe('base: b.img\nfiles: [\n'), { instanceOf: UserError });
  t.regex(error.message, /line \d+, column \d+:/);
});

test('unknown keys in nested maps get a suggestion too', (t) => {
  const error = t.throws(() => parseRecipe('base: b.img\nuser:\n  name: pi\n  sshAuthorisedKeys: []\n'));
  t.regex(error.message, /line 4: user\.sshAuthorisedKeys: unknown key \(did you mean "sshAuthorizedKeys"\?\)/);
});

test('Kubernetes rules that need only the recipe are reported with their lines, before anything is downloaded', (t) => {
  const noHost = t.throws(() => parseRecipe('base: b.img\nkubernetes: { distribution: k3s }\n', 'r.yaml'), { instanceOf: UserError });
  t.regex(noHost.message, /line 2: kubernetes: kubernetes needs a `hostname:`/);
  const loose = t.throws(() => parseRecipe('base: b.img\nimages: [nginx:1]\n', 'r.yaml'), { instanceOf: UserError });
  t.regex(loose.message, /line 2: images: images are loaded by a Kubernetes profile/);
  const text = 'base: b.img\nhostname: pi\nkubernetes:\n  distribution: static\n  disable: [traefik]\n  build:\n    - { name: app, context: ./app }\n';
  const staticErrors = t.throws(() => parseRecipe(text, 'r.yaml'), { instanceOf: UserError });
  t.regex(staticErrors.message, /r\.yaml has 2 problems/);
  t.regex(staticErrors.message, /kubernetes\.build: needs docker on the Pi, and the static profile installs only containerd/);
  t.regex(staticErrors.message, /kubernetes\.disable: names k3s components/);
});
