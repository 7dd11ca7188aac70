import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { subtractRanges } from '../../src/flash/complete-block-map.ts';
import { listFatFreeRanges } from '../../src/image/fat-free-space.ts';
import { makeTempDir } from './helpers.ts';

const mtools = { env: { MTOOLS_SKIP_CHECK: '1' } };

// fsck.fat counts the used clusters itself ("2 files, 294/2036 clusters"): the oracle for pikube's own FAT reading.
// 32 MiB of FAT32 has fewer clusters than Microsoft's FAT32 minimum: mkfs.fat makes it anyway and Linux and fsck.fat
// read it as FAT32, but mtools takes it for FAT16 and cannot write to it, so it stays empty.
for (const [bits, kib] of [[12, 4096], [16, 32768], [32, 65536], [32, 32768]] as const) {
  test(`the free clusters of a ${kib / 1024} MiB FAT${bits} volume are those fsck.fat counts free, after files were written and one deleted`, async (t) => {
    const dir = await makeTempDir(t);
    const volume = path.join(dir, `fat${bits}.img`);
    await execa('mkfs.vfat', ['-F', String(bits), '-C', volume, String(kib)]);
    await writeFile(path.join(dir, 'a.bin'), randomBytes(300_000));
    const writable = bits !== 32 || kib >= 65536;
    if (writable) {
      for (const name of ['a', 'b', 'c']) await execa('mcopy', ['-i', volume, path.join(dir, 'a.bin'), `::/${name}.bin`], mtools);
      await execa('mdel', ['-i', volume, '::/b.bin'], mtools);
    }
    const fsck = await execa('fsck.fat', ['-n', volume]);
    const [, used, total] = /(\d+)\/(\d+) clusters/.exec(fsck.stdout) ?? [];
    const cluster = Number(/(\d+) bytes per cluster/.exec((await execa('fsck.fat', ['-n', '-v', volume])).stdout)?.[1]);
    const handle = await open(volume, 'r');
    try {
      const free = await listFatFreeRanges(handle, 0, kib * 1024);
      if (!free) return t.fail('the FAT was not read');
      const freeBytes = free.reduce((sum, r) => sum + r.end - r.start, 0);
      t.is(freeBytes / cluster, Number(total) - Number(used));
      if (writable) t.true(free.length >= 2, 'the deleted file left a free run between the kept ones');
    } finally {
      await handle.close();
    }
  });
}

test('a volume that is not FAT is not read as one', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'zeros.img');
  await writeFile(file, Buffer.alloc(1024 * 1024));
  const handle = await open(file, 'r');
  try {
    t.is(await listFatFreeRanges(handle, 0, 1024 * 1024), undefined);
  } finally {
    await handle.close();
  }
});

test('subtractRanges finds what a map leaves out', (t) => {
  const have = [{ start: 0, end: 10 }, { start: 20, end: 30 }, { start: 40, end: 50 }];
  t.deepEqual(subtractRanges([{ start: 5, end: 45 }], have), [{ start: 10, end: 20 }, { start: 30, end: 40 }]);
  t.deepEqual(subtractRanges([{ start: 0, end: 10 }, { start: 22, end: 28 }], have), []);
  t.deepEqual(subtractRanges([{ start: 50, end: 60 }], have), [{ start: 50, end: 60 }]);
  t.deepEqual(subtractRanges([{ start: 0, end: 5 }], []), [{ start: 0, end: 5 }]);
});
