import { writeFile } from 'node:fs/promises';
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
