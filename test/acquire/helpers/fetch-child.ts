import { fetchArtifact } from '../../../src/acquire/fetch-artifact.ts';

// Run as a separate process by the race test: fetch one URL into a cache and print the result as JSON.
const [url, sha256, cacheDir] = process.argv.slice(2);
if (!url || !sha256 || !cacheDir) throw new Error('usage: fetch-child URL SHA256 CACHEDIR');
const result = await fetchArtifact(url, { sha256 }, { cacheDir, retryDelayMs: 10 });
process.stdout.write(JSON.stringify(result));
