import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import type { Asker } from '../../src/flash/ask-user.ts';
import { readBlockMap } from '../../src/flash/block-map.ts';
import { writeClusterManifest, type ClusterCard } from '../../src/flash/cluster-manifest.ts';
import { flashCluster } from '../../src/flash/flash-cluster.ts';
import { writeBmap } from '../../src/flash/write-bmap.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, digHoles, makeLoopDevice, makeTempDir, makeTestImage, MiB, readBytes, type TestImage } from '../flash/helpers.ts';

const hash = (data: Buffer) => createHash('sha256').update(data).digest('hex');

// A cluster folder as `pikube build` writes it, with small distinct Pi-shaped images standing in for the cards.
async function makeClusterDir(dir: string, hostnames: string[]): Promise<Map<string, TestImage>> {
  const out = path.join(dir, 'cluster');
  const images = new Map<string, TestImage>();
  const nodes: ClusterCard[] = [];
  await mkdir(out, { recursive: true });
  for (const [i, hostname] of hostnames.entries()) {
    const made = await makeTestImage(dir, 48);
    const image = path.join(out, `${hostname}.img`);
    await copyFile(made.path, image);
    await digHoles(image);
    await writeBmap(image, `${image}.bmap`);
    images.set(hostname, { ...made, path: image });
    const size = (await stat(image)).size;
    nodes.push({ hostname, role: i === 0 ? 'server' : 'agent', image: `${hostname}.img`, bmap: `${hostname}.img.bmap`, size, mappedBytes: size, digest: hash(Buffer.from(hostname)), status: 'written' });
  }
  await writeClusterManifest(out, { cluster: { name: 'test', id: 'test-id' }, server: 'https://pi-1.local:6443', nodes });
  return images;
}

test('flash --cluster asks for each card in order and writes each node\'s image to it, verified, clean on reused cards', async (t) => {
  const dir = await makeTempDir(t);
  const images = await makeClusterDir(dir, ['pi-1', 'pi-2', 'pi-3']);
  const reader = await makeLoopDevice(t, dir, 64, 'random');
  const questions: string[] = [];
  const cards = new Map<string, string>();
  let current: string | undefined;
  // The person at the card reader: before each new card, the written one is taken out (its bytes kept) and a used
  // one, full of old random data, put in.
  const takeOut = async () => {
    if (!current) return;
    const card = path.join(dir, `card-${current}.img`);
    await writeFile(card, await readBytes(reader, 0, 48 * MiB));
    cards.set(current, card);
  };
  const asker: Asker = {
    async confirm(question) {
      questions.push(question);
      const insert = /^Insert the card for (\S+)/.exec(question);
      if (insert) {
        await takeOut();
        current = insert[1];
        await writeFile(reader, randomBytes(64 * MiB));
      }
      return true;
    },
    async choose() {
      return undefined;
    },
  };
  const written = await flashCluster({ dir: path.join(dir, 'cluster'), device: reader, allowNonRemovable: true, asker, listDrives: async () => [] });
  await takeOut();
  t.is(written.length, 3);
  t.true(written.every((w) => w.verified));
  t.deepEqual(questions.filter((q) => q.startsWith('Insert')).map((q) => /for (\S+) \((\w+)\), card (\d) of 3/.exec(q)?.slice(1)), [['pi-1', 'server', '1'], ['pi-2', 'agent', '2'], ['pi-3', 'agent', '3']]);
  t.is(questions.filter((q) => q.startsWith('Write ')).length, 3, 'every card is confirmed before it is overwritten');
  for (const [hostname, image] of images) {
    const card = cards.get(hostname);
    if (!card) return t.fail(`no card for ${hostname}`);
    const map = await readBlockMap(`${image.path}.bmap`);
    for (const range of map.ranges) {
      t.is(hash(await readBytes(card, range.start, range.end - range.start)), range.checksum ?? '', `${hostname} bytes ${range.start}-${range.end}`);
    }
    await checkFilesystems(t, card, image, dir);
  }
});

test('flash --cluster stops when a card is not ready and says how to continue; --from resumes there', async (t) => {
  const dir = await makeTempDir(t);
  await makeClusterDir(dir, ['pi-1', 'pi-2']);
  const reader = await makeLoopDevice(t, dir, 64);
  const refuseSecond: Asker = { confirm: async (q) => !q.startsWith('Insert the card for pi-2'), choose: async () => undefined };
  const error = await t.throwsAsync(flashCluster({ dir: path.join(dir, 'cluster'), device: reader, allowNonRemovable: true, asker: refuseSecond, listDrives: async () => [] }), { instanceOf: UserError });
  t.regex(error?.message ?? '', /stopped before pi-2: pi-1 written/);
  t.regex(error?.hint ?? '', /--from pi-2/);
  const questions: string[] = [];
  const yes: Asker = { confirm: async (q) => { questions.push(q); return true; }, choose: async () => undefined };
  const resumed = await flashCluster({ dir: path.join(dir, 'cluster'), from: 'pi-2', device: reader, allowNonRemovable: true, asker: yes, listDrives: async () => [] });
  t.is(resumed.length, 1);
  t.regex(questions[0] ?? '', /^Insert the card for pi-2 \(agent\), card 2 of 2/);
});

test('pikube flash refuses a folder that is not a cluster, and an image together with --cluster', async (t) => {
  const dir = await makeTempDir(t);
  const notCluster = await runCli(['flash', '--cluster', dir, '--device', path.join(dir, 'x.img')]);
  t.is(notCluster.exitCode, 1, notCluster.stderr);
  t.regex(notCluster.stderr, /is not a cluster built by pikube \(it has no cluster\.json\)/);
  await writeFile(path.join(dir, 'cluster.json'), '{"nodes": [');
  const damaged = await runCli(['flash', '--cluster', dir, '--device', path.join(dir, 'x.img')]);
  t.is(damaged.exitCode, 1, damaged.stderr);
  t.regex(damaged.stderr, /cluster\.json is damaged \(.*\)\n  hint: build the cluster again with `pikube build`/);
  const both = await runCli(['flash', 'a.img', '--cluster', dir]);
  t.is(both.exitCode, 1);
  t.regex(both.stderr, /give an image or --cluster DIR, not both/);
});
