/**
 * Bundles a TypeScript child-process script into one .mjs file, so crash tests can start
 * hundreds of children with plain `node` (about 50 ms each) instead of tsx (about 400 ms).
 * The bundle is written under node_modules/.cache so that drivers (kept external) resolve from
 * the project's node_modules as usual.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const cache = new Map<string, string>();

export function bundleScript(entry: string): string {
  const absolute = resolve(entry);
  const cached = cache.get(absolute);
  if (cached) return cached;
  const name = createHash('sha1').update(`${absolute}:${process.pid}`).digest('hex').slice(0, 12);
  const outfile = join(process.cwd(), 'node_modules', '.cache', 'ztoken-bundles', `${name}.mjs`);
  buildSync({
    entryPoints: [absolute],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  cache.set(absolute, outfile);
  return outfile;
}
