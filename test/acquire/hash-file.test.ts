import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { hashFile, hashFilePrefix, hashFileRange } from '../../src/acquire/hash-file.ts';
import { makeTempDir } from '../helpers/temp.ts';

// sha256sum's digest of `length` bytes of a file from `start`, cut out by tail and head (the reference the hasher must agree with).
async function sha256sum(file: string, start = 0, length?: number): Promise<string> {
  const { stdout } = await execa('sh', ['-c', `tail -c +${start + 1} "$1" | ${length === undefined ? 'cat' : `head -c ${length}`} | sha256sum`, 'sh', file]);
  return stdout.split(' ')[0] as string;
}

test('one hasher: a whole file, a byte range and a resumable prefix agree with sha256sum', async (t) => {
  const dir = await makeTempDir(t, 'pikube-hash-');
  const file = path.join(dir, 'data');
  // Over two of the hasher's 1 MiB pieces, and not a multiple of one.
  const data = randomBytes(2 * 1024 * 1024 + 4321);
  await writeFile(file, data);
  t.deepEqual(await hashFile(file), { sha256: await sha256sum(file), size: data.length });
  t.is(await hashFileRange(file, 1000, 1024 * 1024 + 5000), await sha256sum(file, 1000, 1024 * 1024 + 4000));
  t.is(await hashFileRange(file, 0, data.length), await sha256sum(file));

  const prefix = await hashFilePrefix(file, 1024 * 1024 + 7);
  t.is(prefix.size, 1024 * 1024 + 7);
  prefix.hash.update(data.subarray(prefix.size));
  t.is(prefix.hash.digest('hex'), await sha256sum(file), 'a prefix hash carried on over the rest is the whole file\'s');
  const whole = await hashFilePrefix(file);
  t.is(whole.size, data.length);
  t.is(whole.hash.digest('hex'), await sha256sum(file));

  const missing = await hashFilePrefix(path.join(dir, 'not-yet'));
  t.is(missing.size, 0, 'a partial file that does not exist yet is an empty prefix');
  t.is(missing.hash.digest('hex'), await sha256sum('/dev/null'));
  await t.throwsAsync(hashFile(path.join(dir, 'not-yet')), { code: 'ENOENT' });
});
