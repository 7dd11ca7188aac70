import { runTool } from './run.ts';

export interface FileExtent {
  // Byte offsets inside the file, end exclusive.
  start: number;
  end: number;
}

// The allocated extents of a file (FIEMAP, after a sync), or undefined where the filesystem cannot report them.
export async function listFileExtents(path: string): Promise<FileExtent[] | undefined> {
  const { stdout, stderr } = await runTool('filefrag', ['-s', '-v', path], { okExitCodes: [1] });
  if (/not supported|FIBMAP|Operation not permitted/i.test(`${stdout}\n${stderr}`)) return undefined;
  const unit = /\((\d+) blocks? of (\d+) bytes\)/.exec(stdout);
  if (!unit?.[2]) return undefined;
  const blockSize = Number(unit[2]);
  const extents: FileExtent[] = [];
  for (const match of stdout.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):/gm)) {
    extents.push({ start: Number(match[1]) * blockSize, end: (Number(match[2]) + 1) * blockSize });
  }
  return extents;
}
