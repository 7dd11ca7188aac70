import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { Drive } from 'drivelist';
import { UserError } from '../../src/errors.ts';
import type { Asker } from '../../src/flash/ask-user.ts';
import { flashImage } from '../../src/flash/flash-image.ts';
import { checkTarget, type FlashTarget } from '../../src/flash/flash-target.ts';
import { findCardCandidates, listDrives } from '../../src/flash/list-drives.ts';
import { makeTempDir, makeTestImage } from './helpers.ts';

// Fake drive lists stand in for hardware that cannot exist here (an SD card reader); they are only used for the rules.
function fakeDrive(overrides: Partial<Drive>): Drive {
  return {
    blockSize: 512, busType: 'USB', busVersion: null, description: 'Generic SD Reader', device: '/dev/pikube-test-sdz', devicePath: null,
    enumerator: 'lsblk:json', error: null, isCard: null, isReadOnly: false, isRemovable: true, isSCSI: null, isSystem: false, isUAS: null,
    isUSB: true, isVirtual: false, logicalBlockSize: 512, mountpoints: [], raw: '/dev/pikube-test-sdz', size: 32e9, partitionTableType: 'mbr', ...overrides,
  };
}

const systemDisk = fakeDrive({ device: '/dev/pikube-test-vda', description: 'Virtio disk', busType: 'VIRTIO', isRemovable: false, isSystem: true, size: 256e9, mountpoints: [{ path: '/', label: null }] });

async function targetOf(drive: Drive): Promise<FlashTarget> {
  const [info] = await listDrives(async () => [drive]);
  if (!info) throw new Error('no drive');
  return { ...info, kind: 'block', loop: false };
}

test('a system drive is refused, even with --allow-non-removable', async (t) => {
  const target = await targetOf(fakeDrive({ isSystem: true }));
  t.throws(() => checkTarget(target, 1e9, { allowNonRemovable: true }), { instanceOf: UserError, message: /system drive/ });
});

test('a drive holding / is refused even when drivelist does not flag it as system', async (t) => {
  const target = await targetOf(fakeDrive({ isSystem: false, mountpoints: [{ path: '/', label: null }] }));
  t.throws(() => checkTarget(target, 1e9, { allowNonRemovable: true }), { instanceOf: UserError, message: /mounted at \// });
});

test('a target smaller than the image is refused', async (t) => {
  const target = await targetOf(fakeDrive({ size: 2e9 }));
  const error = t.throws(() => checkTarget(target, 4e9), { instanceOf: UserError, message: /does not fit/ });
  t.regex(error?.hint ?? '', /larger card/);
  t.notThrows(() => checkTarget(target, 2e9));
});

test('a non-removable drive is refused unless --allow-non-removable', async (t) => {
  const target = await targetOf(fakeDrive({ isRemovable: false, busType: 'SATA', description: 'Big Disk' }));
  const error = t.throws(() => checkTarget(target, 1e9), { instanceOf: UserError, message: /not a removable drive/ });
  t.regex(error?.hint ?? '', /--allow-non-removable/);
  t.notThrows(() => checkTarget(target, 1e9, { allowNonRemovable: true }));
});

test('auto-selection never offers system, virtual, empty or read-only drives', async (t) => {
  const drives = await listDrives(async () => [
    systemDisk,
    fakeDrive({ device: '/dev/zram0', isVirtual: true, size: null }),
    fakeDrive({ device: '/dev/pikube-test-sdy', isReadOnly: true }),
    fakeDrive({ device: '/dev/pikube-test-sdx', size: 0 }),
    fakeDrive({ device: '/dev/pikube-test-sdz' }),
  ]);
  t.deepEqual(findCardCandidates(drives).map((d) => d.device), ['/dev/pikube-test-sdz']);
});

test('without --device the only card is proposed with its model and size, and nothing happens unless confirmed', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  // The fake card is a file in the temp dir, so the write-access check passes; declining must leave it untouched.
  const card = path.join(dir, 'fake-sdz');
  await writeFile(card, 'old contents');
  const questions: string[] = [];
  const asker: Asker = { confirm: async (q) => { questions.push(q); return false; }, choose: async () => undefined };
  await t.throwsAsync(flashImage({ imagePath: image.path, listDrives: async () => [systemDisk, fakeDrive({ device: card })], asker, powerOff: false }),
    { instanceOf: UserError, message: /not confirmed/ });
  t.is(questions.length, 1);
  t.true(questions[0]?.includes(`${card} (Generic SD Reader, 32.0 GB, USB)`), questions[0]);
  t.is(await readFile(card, 'utf8'), 'old contents');
});

test('with several cards it asks which, and with none it says to insert one', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const offered: string[][] = [];
  const asker: Asker = { confirm: async () => false, choose: async (_q, choices) => { offered.push(choices); return undefined; } };
  const two = async () => [systemDisk, fakeDrive({ device: '/dev/pikube-test-sdy', description: 'Reader A' }), fakeDrive({ description: 'Reader B' })];
  await t.throwsAsync(flashImage({ imagePath: image.path, listDrives: two, asker, powerOff: false }), { message: /no drive chosen/ });
  t.is(offered.length, 1);
  t.is(offered[0]?.length, 2);
  const none = await t.throwsAsync(flashImage({ imagePath: image.path, listDrives: async () => [systemDisk], asker, powerOff: false }), { instanceOf: UserError, message: /no removable card found/ });
  t.regex(none?.hint ?? '', /insert the SD card/);
});
