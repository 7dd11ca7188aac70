import type { Request, Response } from 'got';

// got's stream API reports the response (or a connection failure) as events; both HTTP clients await it.
export function waitForResponse(stream: Request): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
}
