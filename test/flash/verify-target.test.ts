import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { ToolError } from '../../src/errors.ts';
import { ReadBackVerifier } from '../../src/flash/verify-target.ts';
import { makeTempDir, MiB } from './helpers.ts';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('the read-back worker hashes spans of a segment in order and names the segment that differs', async (t) => {
  const dir = await makeTempDir(t);
  const target = path.join(dir, 'target.img');
  const data = randomBytes(9 * MiB + 123);
  await writeFile(target, data);
  let checked = 0;
  const verifier = new ReadBackVerifier(target, false, (bytes) => { checked = bytes; });
  t.teardown(() => verifier.close());
  // Segment 0 in two spans (one longer than the worker's 4 MiB buffers), segment 1 with a wrong checksum.
  verifier.hold(0, 0, 5 * MiB);
  verifier.hold(0, 5 * MiB, 8 * MiB);
  verifier.hold(1, 8 * MiB, data.length);
  const wrong = { id: 1, start: 8 * MiB, end: data.length, sha256: sha256(Buffer.from('not these bytes')) };
  await verifier.release([{ id: 0, start: 0, end: 8 * MiB, sha256: sha256(data.subarray(0, 8 * MiB)) }, wrong]);
  t.deepEqual(await verifier.finish(), { start: wrong.start, end: wrong.end, sha256: wrong.sha256 });
  t.is(checked, data.length);
});

test('a read-back worker that cannot open the target fails finish() instead of leaving it waiting', async (t) => {
  const dir = await makeTempDir(t);
  const verifier = new ReadBackVerifier(path.join(dir, 'missing.img'), false, () => {});
  t.teardown(() => verifier.close());
  // Wait until the worker has failed, then ask: a late finish() must not wait for an answer that never comes.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const error = await t.throwsAsync(verifier.finish(), { instanceOf: ToolError, message: /reading .*missing\.img back failed: ENOENT.*the card is incomplete/ });
  t.regex(error?.hint ?? '', /try flashing again/);
});
