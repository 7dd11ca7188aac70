import type { ExecutionContext } from 'ava';
import { startMirrorServer, type MirrorServer } from '../../examples/demo/serve-mirror.ts';

export type Mirror = Omit<MirrorServer, 'close'>;

// The demo's mirror on 127.0.0.1, closed when the test ends.
export async function startMirror(t: ExecutionContext, files: Record<string, Buffer | string> = {}): Promise<Mirror> {
  const mirror = await startMirrorServer(files);
  t.teardown(() => mirror.close());
  return mirror;
}
