import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { resolveCacheDir } from '../../src/acquire/cache-dir.ts';
import { parseChecksumFile } from '../../src/acquire/checksum-file.ts';
import { formatOfMagic } from '../../src/acquire/image-format.ts';
import { parseAge } from '../../src/acquire/parse-age.ts';
import { applyMirror, isLoopback } from '../../src/acquire/url-policy.ts';
import { UserError } from '../../src/errors.ts';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);

test('checksum files: sha256sum lines, binary marker, BSD lines, bare digests', (t) => {
  t.is(parseChecksumFile(`${a}  other.img.xz\n${b}  pi.img.xz\n`, 'pi.img.xz', 'SUMS'), b);
  t.is(parseChecksumFile(`${b} *./dist/pi.img.zip\n${a} *x`, 'pi.img.zip', 'SUMS'), b);
  t.is(parseChecksumFile(`SHA256 (pi.img.gz) = ${b.toUpperCase()}\n`, 'pi.img.gz', 'SUMS'), b);
  t.is(parseChecksumFile(`${a}\n`, 'whatever.img', 'x.sha256'), a);
  t.throws(() => parseChecksumFile(`${a}  one\n${b}  two\n`, 'three', 'SUMS'), { instanceOf: UserError, message: 'SUMS lists no single sha256 for three (it names: one, two)' });
  t.throws(() => parseChecksumFile('<html>not found</html>', 'pi.img', 'x.sha256'), { instanceOf: UserError, message: 'x.sha256 holds no sha256 digest' });
});

test('the cache directory: --cache, then PIKUBE_CACHE, then the checkout cache/', (t) => {
  t.is(resolveCacheDir('/tmp/flag', { PIKUBE_CACHE: '/tmp/env' }), '/tmp/flag');
  t.is(resolveCacheDir(undefined, { PIKUBE_CACHE: '/tmp/env' }), '/tmp/env');
  const checkout = path.join(fileURLToPath(new URL('../../', import.meta.url)), 'cache');
  t.is(resolveCacheDir(undefined, {}), checkout);
});

test('the mirror rewrite keeps host, path and query; only https is rewritten', (t) => {
  t.is(applyMirror('https://downloads.example:8443/a/b.img.xz?x=1', 'http://127.0.0.1:9000/m/'), 'http://127.0.0.1:9000/m/downloads.example:8443/a/b.img.xz?x=1');
  t.is(applyMirror('http://127.0.0.1:1/a', 'http://127.0.0.1:9000'), 'http://127.0.0.1:1/a');
  t.is(applyMirror('https://h/a', undefined), 'https://h/a');
  t.true(isLoopback('127.0.0.1') && isLoopback('[::1]') && isLoopback('localhost'));
  t.false(isLoopback('10.0.0.1') || isLoopback('127.0.0.1.example'));
});

test('formats are told by magic bytes', (t) => {
  t.is(formatOfMagic(Buffer.from('PK\x03\x04xx', 'latin1')), 'zip');
  t.is(formatOfMagic(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  t.is(formatOfMagic(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0])), 'gzip');
  t.is(formatOfMagic(Buffer.from([0xfa, 0xb8, 0, 0x10, 0x8e, 0xd0])), 'raw');
});

test('prune ages: minutes, hours, days, weeks, bare days', (t) => {
  const now = Date.UTC(2026, 0, 31);
  t.is(parseAge('30d', now).getTime(), now - 30 * 86_400_000);
  t.is(parseAge('12h', now).getTime(), now - 12 * 3_600_000);
  t.is(parseAge('2w', now).getTime(), now - 14 * 86_400_000);
  t.is(parseAge('90m', now).getTime(), now - 90 * 60_000);
  t.is(parseAge('7', now).getTime(), now - 7 * 86_400_000);
  t.throws(() => parseAge('soon'), { instanceOf: UserError });
});
