import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { ToolError } from '../errors.ts';
import { log } from '../log.ts';
import { missingTool, runTool } from './run.ts';

// The uncompressed size recorded in an .xz file's index, without decompressing it.
export async function readXzUncompressedSize(path: string): Promise<number | undefined> {
  const { stdout } = await runTool('xz', ['--robot', '--list', path]);
  const totals = stdout.split('\n').find((line) => line.startsWith('totals\t'))?.split('\t');
  const size = Number(totals?.[4]);
  return Number.isFinite(size) && size > 0 ? size : undefined;
}

// Streams an .xz file through `xz -dc`; a failing xz errors the stream with a ToolError (runTool buffers, so this one streams).
export function openXzDecompressStream(path: string, signal?: AbortSignal): Readable {
  const args = ['-dc', '--', path];
  log.debug(`$ xz ${args.join(' ')}`);
  const child = execa('xz', args, { buffer: false, stdin: 'ignore', stderr: 'pipe', cancelSignal: signal, reject: false, env: { LC_ALL: 'C' } });
  const stdout = child.stdout;
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => { stderr += data.toString('utf8'); });
  void child.then((result) => {
    if (result.exitCode === 0 || result.isCanceled) return;
    const error = result.exitCode === undefined && /ENOENT/.test(String(result.message))
      ? missingTool('xz')
      : new ToolError({ command: `xz ${args.join(' ')}`, exitCode: result.exitCode, stderr });
    stdout.destroy(error);
  });
  return stdout;
}
