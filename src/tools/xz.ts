import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { execa } from 'execa';
import { damagedArchive } from '../damaged-archive.ts';
import { ToolError, UserError } from '../errors.ts';
import { log } from '../log.ts';
import { missingTool, runTool } from './run.ts';

// Decompresses an .xz file into destPath (created or truncated); xz reads it multi-threaded and, writing
// straight to the file descriptor (a stream with an fd is passed to the child as is), leaves zero runs as holes.
export async function decompressXzToFile(archivePath: string, destPath: string, signal?: AbortSignal): Promise<void> {
  const handle = await open(destPath, 'w');
  const destination = createWriteStream('', { fd: handle, autoClose: false });
  try {
    await runTool('xz', ['--decompress', '--stdout', '--threads=0', '--', archivePath], { stdout: destination, cancelSignal: signal }).catch((error: unknown) => {
      throw error instanceof ToolError ? xzFailure(archivePath, error) : error;
    });
  } finally {
    destination.destroy();
    await handle.close();
  }
}

// The uncompressed size recorded in an .xz file's index, without decompressing it.
export async function readXzUncompressedSize(path: string): Promise<number | undefined> {
  const { stdout } = await runTool('xz', ['--robot', '--list', path]).catch((error: unknown) => {
    throw error instanceof ToolError ? xzFailure(path, error) : error;
  });
  const totals = stdout.split('\n').find((line) => line.startsWith('totals\t'))?.split('\t');
  const size = Number(totals?.[4]);
  return Number.isFinite(size) && size > 0 ? size : undefined;
}

// `xz -dc` as a stream (runTool buffers): it ends only after xz exited cleanly, errors with a ToolError, and stops xz when destroyed.
export function openXzDecompressStream(path: string, signal?: AbortSignal): Readable {
  const args = ['--decompress', '--stdout', '--threads=0', '--', path];
  log.debug(`$ xz ${args.join(' ')}`);
  const child = execa('xz', args, { stdin: 'ignore', buffer: false, reject: false, cancelSignal: signal, env: { LC_ALL: 'C' } });
  const output = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => { stderr += data.toString('utf8'); });
  child.stdout.pipe(output, { end: false });
  output.on('close', () => { if (child.exitCode === null) child.kill(); });
  void Promise.all([child, finished(child.stdout).catch(() => undefined)]).then(([result]) => {
    if (output.destroyed) return;
    if (result.exitCode === 0 && child.stdout.readableEnded) {
      output.end();
      return;
    }
    output.destroy(result.exitCode === undefined && /ENOENT/.test(String(result.message))
      ? missingTool('xz')
      : xzFailure(path, new ToolError({ command: `xz ${args.join(' ')}`, exitCode: result.exitCode, stderr: stderr || `ended early: ${result.shortMessage}` })));
  });
  return output;
}

// xz's own words for data it cannot read (cut off, damaged, not xz at all) make the input the user's problem;
// anything else (no memory, a killed process) stays a tool failure.
function xzFailure(path: string, error: ToolError): UserError | ToolError {
  if (!/unexpected end of input|compressed data is corrupt|file format not recognized|unsupported (options|type of integrity check)/i.test(error.stderr)) return error;
  const detail = error.stderr.split('\n').map((line) => line.replace(/^xz: .*?: (?=[A-Z])/, '').trim()).filter(Boolean).join('; ');
  return damagedArchive(path, 'xz', detail, error);
}
