import { join } from 'node:path';
import test from 'ava';
import { runCli } from '../helpers/cli.ts';
import { makeBase } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';

interface InspectJson {
  facts: {
    table: { label: string; id: string; partitions: Array<{ number: number; partuuid: string }> };
    boot: { label: string; freeBytes: number };
    root: { label: string; freeBytes: number; isLast: boolean };
    architecture: string;
    osRelease: Record<string, string>;
    cloudInit: boolean;
  };
  buildRecord: { pikube: string; inputs: Array<{ role: string }> } | null;
}

test('inspect reads an MBR Hypriot-shaped image: table, labels, free space, OS, armhf from the ELF header', async (t) => {
  const { base } = await makeBase(t);
  const result = await runCli(['inspect', base, '--json']);
  t.is(result.exitCode, 0, result.stderr);
  const { facts, buildRecord } = JSON.parse(result.stdout) as InspectJson;
  t.is(facts.table.label, 'dos');
  t.is(facts.table.id, '0x5452574f');
  t.deepEqual(facts.table.partitions.map((p) => p.partuuid), ['5452574f-01', '5452574f-02']);
  t.is(facts.boot.label, 'HypriotOS');
  t.is(facts.root.label, 'root');
  t.true(facts.root.freeBytes > 100 * 2 ** 20);
  t.true(facts.root.isLast);
  t.is(facts.architecture, 'armhf');
  t.regex(facts.osRelease.PRETTY_NAME ?? '', /buster/);
  t.true(facts.cloudInit);
  t.is(buildRecord, null);
  const human = await runCli(['inspect', base]);
  t.regex(human.stdout, /partition table: MBR, disk id 0x5452574f/);
  t.regex(human.stdout, /architecture: armhf/);
});

test('inspect reads a GPT arm64 image and shows the pikube build record after a build', async (t) => {
  const { dir } = await makeBase(t, { arch: 'arm64', table: 'gpt' });
  const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'gpt-pi' });
  const output = join(dir, 'out.img');
  const build = await runCli(['build', '-c', recipe, '-o', output]);
  t.is(build.exitCode, 0, build.stderr);
  const { facts, buildRecord } = JSON.parse((await runCli(['inspect', output, '--json'])).stdout) as InspectJson;
  t.is(facts.table.label, 'gpt');
  t.is(facts.architecture, 'arm64');
  t.false(facts.cloudInit);
  t.is(facts.table.partitions[1]?.partuuid, '5452574f-0000-4000-8000-000000000003');
  t.is(buildRecord?.pikube, '0.1.0');
  t.deepEqual(buildRecord?.inputs.map((i) => i.role), ['base']);
  const human = await runCli(['inspect', output]);
  t.regex(human.stdout, /built by pikube 0\.1\.0/);
});
