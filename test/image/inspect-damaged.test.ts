import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { readLayout } from '../../src/image/read-facts.ts';
import { runCli } from '../helpers/cli.ts';
import { makeBase } from '../helpers/image.ts';

for (const [what, record] of [['of another shape', '{"pikube": 1, "inputs": 5}'], ['that is not JSON', '{"pikube": "0.1.0", ']] as const) {
  test(`inspect reports a build record ${what} as unreadable instead of crashing`, async (t) => {
    const { dir, base } = await makeBase(t, { sizeMiB: 100, bootMiB: 40 });
    const layout = await readLayout(base);
    await writeFile(join(dir, 'build.json'), record);
    await writeFile(join(dir, 'cmds'), `mkdir /etc/pikube\nwrite ${join(dir, 'build.json')} /etc/pikube/build.json\n`);
    await execa('debugfs', ['-w', '-f', join(dir, 'cmds'), `${base}?offset=${layout.root.start * layout.table.sectorSize}`]);
    const result = await runCli(['inspect', base]);
    t.is(result.exitCode, 0, result.stderr);
    t.regex(result.stdout, /pikube build record: unreadable \(\/etc\/pikube\/build\.json (does not have the shape pikube writes|is not JSON)\)/);
    const json = await runCli(['inspect', '--json', base]);
    t.is(json.exitCode, 0, json.stderr);
    t.is((JSON.parse(json.stdout) as { buildRecord: unknown }).buildRecord, null);
  });
}

const FAT_DAMAGE: Array<[string, number, Buffer, RegExp]> = [
  ['a FAT size past the partition', 36, Buffer.from([0xff, 0xff, 0xff, 0xff]), /its FATs \(2 × 4294967295 sectors\) do not fit/],
  ['a sector count past the partition', 32, Buffer.from([0x00, 0x00, 0x00, 0x10]), /more than its partition/],
  ['a zero cluster size', 13, Buffer.from([0]), /its cluster size is 0 sectors/],
  ['a media byte mtools refuses', 21, Buffer.from([0x01]), /its media byte is 0x1/],
  ['a root folder outside the clusters', 44, Buffer.from([0x00, 0x00, 0x00, 0x01]), /its root folder starts at cluster 16777216/],
];

for (const [what, field, bytes, expected] of FAT_DAMAGE) {
  test(`a base whose FAT boot sector has ${what} is refused as damaged (exit 1) before mtools reads outside it`, async (t) => {
    const { dir, base } = await makeBase(t, { sizeMiB: 100, bootMiB: 40 });
    const layout = await readLayout(base);
    const handle = await open(base, 'r+');
    await handle.write(bytes, 0, bytes.length, layout.boot.start * layout.table.sectorSize + field);
    await handle.close();
    const result = await runCli(['inspect', base]);
    t.is(result.exitCode, 1, result.stderr);
    t.regex(result.stderr, /the FAT boot partition \(#1\) of .*base\.img is damaged/);
    t.regex(result.stderr, expected);
    await writeFile(join(dir, 'pikube.yaml'), 'base: base.img\n');
    const plan = await runCli(['plan'], { cwd: dir, env: { PIKUBE_CACHE: join(dir, 'cache') } });
    t.is(plan.exitCode, 1, plan.stderr);
    t.regex(plan.stderr, expected);
  });
}

test('a base whose ext4 superblock libext2fs refuses is reported as damaged (exit 1), not as a failing tool', async (t) => {
  const { base } = await makeBase(t, { sizeMiB: 100, bootMiB: 40 });
  const layout = await readLayout(base);
  const handle = await open(base, 'r+');
  await handle.write(Buffer.from([0xff, 0xff, 0xff, 0x7f]), 0, 4, layout.root.start * layout.table.sectorSize + 1024 + 24);
  await handle.close();
  const result = await runCli(['inspect', base]);
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /the ext4 root filesystem at byte \d+ of .*base\.img is damaged: dumpe2fs says "The ext2 superblock is corrupt"/);
  t.regex(result.stderr, /download or decompress it again/);
});
