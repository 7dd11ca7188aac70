import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { digestLocalFile } from '../../src/acquire/local-digest.ts';
import { sha256 } from '../helpers/image.ts';
import { makeTempDir } from '../helpers/temp.ts';

test('a local base is hashed once, remembered by identity, and hashed again when it changes', async (t) => {
  const dir = await makeTempDir(t);
  const cache = join(dir, 'cache');
  const file = join(dir, 'base.img');
  await writeFile(file, 'first version');
  t.deepEqual(await digestLocalFile(file, cache), { sha256: sha256('first version'), size: 13 });
  t.is((await readdir(join(cache, 'local-digests'))).length, 1);
  t.is((await digestLocalFile(file, cache)).sha256, sha256('first version'));
  t.is((await readdir(join(cache, 'local-digests'))).length, 1, 'the second look-up reuses the record');
  await appendFile(file, ' and more');
  t.is((await digestLocalFile(file, cache)).sha256, sha256('first version and more'));
});
