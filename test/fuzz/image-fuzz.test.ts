import { copyFile, open, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import test from 'ava';
import { EXIT, getExitCode, ToolError } from '../../src/errors.ts';
import { inspectImage, formatInspection } from '../../src/image/inspect-image.ts';
import { readImageFacts } from '../../src/image/read-facts.ts';
import { runCli } from '../helpers/cli.ts';
import { fuzzCases, fuzzSeed, makeRandom, type Random } from '../helpers/fuzz.ts';
import { makeBase } from '../helpers/image.ts';

const SECTOR = 512;
const BOOT = 8192 * SECTOR;
const BOOT_MIB = 40;
const SIZE_MIB = 100;
const ROOT = (8192 + BOOT_MIB * 2048) * SECTOR;

interface Field {
  name: string;
  offset: number;
  width: 1 | 2 | 4 | 8;
}

const le = (name: string, offset: number, width: Field['width']): Field => ({ name, offset, width });

// The fields a reader trusts: MBR partition entries, the GPT header and entries (primary and backup), the FAT32
// BPB, and the ext4 superblock and first group descriptor.
function fieldsOf(table: 'dos' | 'gpt', size: number): Field[] {
  const mbr = [0, 1, 2, 3].flatMap((i) => [le(`mbr[${i}].status`, 446 + i * 16, 1), le(`mbr[${i}].type`, 450 + i * 16, 1),
    le(`mbr[${i}].start`, 454 + i * 16, 4), le(`mbr[${i}].sectors`, 458 + i * 16, 4)]);
  const gptHeader = (base: number, tag: string) => [le(`${tag}.signature`, base, 8), le(`${tag}.revision`, base + 8, 4), le(`${tag}.headerSize`, base + 12, 4),
    le(`${tag}.myLba`, base + 24, 8), le(`${tag}.alternateLba`, base + 32, 8), le(`${tag}.firstUsable`, base + 40, 8), le(`${tag}.lastUsable`, base + 48, 8),
    le(`${tag}.entriesLba`, base + 72, 8), le(`${tag}.entryCount`, base + 80, 4), le(`${tag}.entrySize`, base + 84, 4)];
  const gptEntries = [0, 1].flatMap((i) => [le(`gpt.entry[${i}].type`, 1024 + i * 128, 8), le(`gpt.entry[${i}].first`, 1024 + i * 128 + 32, 8),
    le(`gpt.entry[${i}].last`, 1024 + i * 128 + 40, 8), le(`gpt.entry[${i}].attributes`, 1024 + i * 128 + 48, 8)]);
  const fat = [le('fat.bytesPerSector', BOOT + 11, 2), le('fat.sectorsPerCluster', BOOT + 13, 1), le('fat.reserved', BOOT + 14, 2), le('fat.fats', BOOT + 16, 1),
    le('fat.rootEntries', BOOT + 17, 2), le('fat.sectors16', BOOT + 19, 2), le('fat.media', BOOT + 21, 1), le('fat.fatSize16', BOOT + 22, 2),
    le('fat.sectors32', BOOT + 32, 4), le('fat.fatSize32', BOOT + 36, 4), le('fat.rootCluster', BOOT + 44, 4), le('fat.fsInfo', BOOT + 48, 2),
    le('fat.bootSig', BOOT + 66, 1), le('fat.type', BOOT + 82, 8), le('fat.signature', BOOT + 510, 2), le('fat.fsinfoFree', BOOT + SECTOR + 488, 4)];
  const sb = ROOT + 1024;
  const ext = [le('ext.inodes', sb, 4), le('ext.blocks', sb + 4, 4), le('ext.reserved', sb + 8, 4), le('ext.freeBlocks', sb + 12, 4), le('ext.freeInodes', sb + 16, 4),
    le('ext.firstData', sb + 20, 4), le('ext.logBlockSize', sb + 24, 4), le('ext.blocksPerGroup', sb + 32, 4), le('ext.inodesPerGroup', sb + 40, 4),
    le('ext.magic', sb + 56, 2), le('ext.state', sb + 58, 2), le('ext.rev', sb + 76, 4), le('ext.firstIno', sb + 84, 4), le('ext.inodeSize', sb + 88, 2),
    le('ext.compat', sb + 92, 4), le('ext.incompat', sb + 96, 4), le('ext.roCompat', sb + 100, 4), le('ext.descSize', sb + 254, 2),
    le('ext.logGroupsPerFlex', sb + 372, 1), le('ext.blocksHi', sb + 336, 4)];
  const gd = [le('ext.gd0.blockBitmap', ROOT + 2048, 4), le('ext.gd0.inodeBitmap', ROOT + 2052, 4), le('ext.gd0.inodeTable', ROOT + 2056, 4),
    le('ext.gd0.blockBitmap@4k', ROOT + 4096, 4), le('ext.gd0.inodeTable@4k', ROOT + 4104, 4)];
  return table === 'dos' ? [...mbr, ...fat, ...ext, ...gd] : [...gptHeader(SECTOR, 'gpt'), ...gptHeader(size - SECTOR, 'gpt.backup'), ...gptEntries, ...fat, ...ext, ...gd];
}

function mutateValue(old: bigint, width: number, random: Random): bigint {
  const max = (1n << BigInt(width * 8)) - 1n;
  const choices = [0n, 1n, max, max >> 1n, old + 1n, old - 1n, old * 2n, old >> 1n, old ^ (1n << BigInt(random.int(width * 8))), BigInt(random.int(2 ** 31)) & max];
  const value = random.pick(choices);
  return ((value % (max + 1n)) + max + 1n) % (max + 1n);
}

function readField(bytes: Buffer, width: number): bigint {
  let value = 0n;
  for (let i = width - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
  return value;
}

function writeField(value: bigint, width: number): Buffer {
  const bytes = Buffer.alloc(width);
  for (let i = 0; i < width; i++) bytes[i] = Number((value >> BigInt(i * 8)) & 0xffn);
  return bytes;
}

// crc32c (Castagnoli) seeded with ~0 and without the final inversion, as libext2fs computes the ext4 superblock
// checksum (metadata_csum), so a mutated field is not simply refused for its checksum and reaches the code behind it.
const CRC32C = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32c(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC32C[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return crc >>> 0;
}

type Patch = { offset: number; bytes: Buffer };

async function patchImage(path: string, patches: Patch[]): Promise<Patch[]> {
  const handle = await open(path, 'r+');
  const undo: Patch[] = [];
  try {
    for (const patch of patches) {
      const old = Buffer.alloc(patch.bytes.length);
      await handle.read(old, 0, old.length, patch.offset);
      undo.unshift({ offset: patch.offset, bytes: old });
      await handle.write(patch.bytes, 0, patch.bytes.length, patch.offset);
    }
  } finally {
    await handle.close();
  }
  return undo;
}

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

// Mutates one to four fields (and now and then random bytes of the metadata), fixing the GPT and ext4 checksums
// half the time; returns the patches and a description to replay by.
async function damage(path: string, table: 'dos' | 'gpt', size: number, random: Random): Promise<{ undo: Patch[]; what: string[] }> {
  const fields = fieldsOf(table, size);
  const what: string[] = [];
  const undo: Patch[] = [];
  for (let n = random.int(4) + 1; n > 0; n--) {
    if (random.chance(0.15)) {
      const region = random.pick([0, BOOT, ROOT + 1024, ROOT + 2048, table === 'gpt' ? 1024 : 446]);
      const bytes = Buffer.from(Array.from({ length: random.int(16) + 1 }, () => random.int(256)));
      const offset = region + random.int(512);
      undo.unshift(...(await patchImage(path, [{ offset, bytes }])));
      what.push(`bytes@${offset}=${bytes.toString('hex')}`);
      continue;
    }
    const field = random.pick(fields);
    const old = readField(await readAt(path, field.offset, field.width), field.width);
    const value = mutateValue(old, field.width, random);
    undo.unshift(...(await patchImage(path, [{ offset: field.offset, bytes: writeField(value, field.width) }])));
    what.push(`${field.name}: ${old} -> ${value}`);
  }
  if (random.chance(0.5)) {
    const sb = await readAt(path, ROOT + 1024, 1024);
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(crc32c(sb.subarray(0, 1020)));
    undo.unshift(...(await patchImage(path, [{ offset: ROOT + 1024 + 1020, bytes: sum }])));
    what.push('ext4 superblock checksum fixed');
  }
  if (table === 'gpt' && random.chance(0.5)) {
    for (const [header, tag] of [[SECTOR, 'primary'], [size - SECTOR, 'backup']] as const) {
      const bytes = await readAt(path, header, 92);
      const entriesLba = Number(bytes.readBigUInt64LE(72));
      const entries = entriesLba > 0 && entriesLba * SECTOR + 128 * 128 <= size ? await readAt(path, entriesLba * SECTOR, 128 * 128) : undefined;
      if (entries) bytes.writeUInt32LE(crc32(entries), 88);
      bytes.writeUInt32LE(0, 16);
      bytes.writeUInt32LE(crc32(bytes.subarray(0, Math.min(92, bytes.readUInt32LE(12) || 92))), 16);
      undo.unshift(...(await patchImage(path, [{ offset: header, bytes }])));
      what.push(`gpt ${tag} crc fixed`);
    }
  }
  return { undo, what };
}

async function makeFuzzBase(t: Parameters<typeof makeBase>[0], table: 'dos' | 'gpt') {
  const { dir, base } = await makeBase(t, { table, sizeMiB: SIZE_MIB, bootMiB: BOOT_MIB, rootMiB: SIZE_MIB - 4 - BOOT_MIB - (table === 'gpt' ? 1 : 0) });
  const facts = await readImageFacts(base);
  if (facts.root.start * SECTOR !== ROOT || facts.boot.start * SECTOR !== BOOT) throw new Error('the fuzz base layout moved');
  return { dir, base, size: facts.size };
}

// Damaged partition tables and filesystem headers through `inspect`'s reader in-process: read, or refused as the
// user's damaged input (exit 1); never a tool failure or a crash.
test('image fuzzer: damaged MBR, GPT, FAT and ext4 headers are read or refused as damaged input (exit 1), never crash', async (t) => {
  const seed = fuzzSeed(14_2026);
  const cases = fuzzCases(60);
  const bases = { dos: await makeFuzzBase(t, 'dos'), gpt: await makeFuzzBase(t, 'gpt') };
  const outcomes: Record<string, number> = {};
  const failures: string[] = [];
  const slowest = { ms: 0, seed: 0, what: '' };
  for (let i = 0; i < cases; i++) {
    const caseSeed = (seed + i) >>> 0;
    const random = makeRandom(caseSeed);
    const table = random.pick(['dos', 'gpt'] as const);
    const { base, size } = bases[table];
    const { undo, what } = await damage(base, table, size, random);
    const started = Date.now();
    try {
      const inspection = await inspectImage(base);
      formatInspection(inspection);
      outcomes.read = (outcomes.read ?? 0) + 1;
    } catch (error) {
      const code = getExitCode(error);
      const key = `exit ${code}${error instanceof ToolError ? ` ${error.command.split(' ')[0]}` : ''}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (process.env.PIKUBE_FUZZ_VERBOSE) t.log(`${caseSeed} ${key}: ${what.join('; ')}: ${error instanceof Error ? error.message.split('\n').slice(0, 3).join(' | ') : ''}`);
      // A damaged base is the user's input: exit 1 naming it, never a tool failure (2) or a bug (70).
      if (code !== EXIT.user) failures.push(`replay: PIKUBE_FUZZ_SEED=${caseSeed} PIKUBE_FUZZ_CASES=1 (${table}: ${what.join('; ')})\n${error instanceof Error ? error.stack : String(error)}`);
    } finally {
      await patchImage(base, undo);
    }
    if (Date.now() - started > slowest.ms) Object.assign(slowest, { ms: Date.now() - started, seed: caseSeed, what: `${table}: ${what.join('; ')}` });
    if (failures.length >= 5) break;
  }
  t.log(`seed ${seed}: ${cases} cases: ${JSON.stringify(outcomes)}; slowest ${slowest.ms} ms (PIKUBE_FUZZ_SEED=${slowest.seed}, ${slowest.what})`);
  t.deepEqual(failures, [], `seed ${seed}`);
});

// A few damaged images through the real CLI: `inspect`, and `plan`/`build` with the image as base; never exit 70,
// and a failed build leaves no output behind.
test('image fuzzer through the CLI: inspect, plan and build on damaged bases never exit 70', async (t) => {
  const seed = fuzzSeed(14_2026) ^ 0xcafe;
  const cases = Math.max(1, Math.round(fuzzCases(60) / 15));
  const base = await makeFuzzBase(t, 'dos');
  const gpt = await makeFuzzBase(t, 'gpt');
  const failures: string[] = [];
  for (let i = 0; i < cases; i++) {
    const caseSeed = (seed + i) >>> 0;
    const random = makeRandom(caseSeed);
    const { dir, base: image, size } = random.chance(0.5) ? base : gpt;
    const damaged = join(dir, `damaged-${i}.img`);
    await copyFile(image, damaged);
    const { what } = await damage(damaged, image === base.base ? 'dos' : 'gpt', size, random);
    await writeFile(join(dir, 'pikube.yaml'), `base: damaged-${i}.img\nhostname: pi\nfiles:\n  - { path: /etc/motd, content: hi }\n`);
    const command = random.pick([['inspect', damaged], ['plan', '-c', 'pikube.yaml'], ['build', '-c', 'pikube.yaml', '-o', 'out.img']]);
    const result = await runCli(command, { cwd: dir, env: { PIKUBE_CACHE: join(dir, 'cache') } });
    if (result.exitCode === EXIT.internal || result.exitCode < 0 || /bug in pikube/i.test(result.stderr)) {
      failures.push(`replay: PIKUBE_FUZZ_SEED=${caseSeed} ${command[0]} (exit ${result.exitCode}; ${what.join('; ')})\n${result.stderr.slice(0, 1500)}`);
    }
    if (command[0] === 'build' && result.exitCode !== 0) {
      const left = (await readdir(dir)).filter((name) => name.startsWith('out.img') || name.startsWith('.out.img'));
      if (left.length > 0) failures.push(`replay: PIKUBE_FUZZ_SEED=${caseSeed}: a failed build left ${left.join(', ')}`);
    }
    await rm(damaged, { force: true });
    await rm(join(dir, 'out.img'), { force: true });
    await rm(join(dir, 'out.img.bmap'), { force: true });
  }
  t.deepEqual(failures, [], `seed ${seed}`);
});
