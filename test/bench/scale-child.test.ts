/**
 * The scale bench's child process (bench/scale/child.ts) runs end to end on a small store, so
 * `npm run bench -- --scale N` cannot rot unnoticed. No timing is asserted: only that each
 * operation was measured, plain and encrypted, and that a wrong argument is refused.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CHILD = join(process.cwd(), 'bench', 'scale', 'child.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench/scale/child.ts', () => {
  it('measures the three operations on a MemoryStore, plain and encrypted, and prints them as one RESULT line', () => {
    const child = run('MemoryStore', '300', 'quick');
    expect(child.status, child.stderr).toBe(0);
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    const result = JSON.parse(line?.slice('RESULT '.length) ?? 'null') as {
      loadS: number;
      figures: [string, { plain: { medianUs: number; samples: number }; encrypted: { medianUs: number }; rounds: number }][];
    };
    expect(result.figures.map(([operation]) => operation)).toEqual([
      'findToken (refresh token)',
      'saveToken (known user)',
      'saveToken (new user, new id)',
    ]);
    for (const [, f] of result.figures) {
      expect(f.plain.medianUs).toBeGreaterThan(0);
      expect(f.encrypted.medianUs).toBeGreaterThan(0);
      expect(f.plain.samples).toBeGreaterThan(0);
      expect(f.rounds).toBe(5);
    }
  });

  it('refuses an unknown store kind, naming the kinds', () => {
    const child = run('NoSuchStore', '300');
    expect(child.status).toBe(2);
    expect(child.stderr).toContain('kinds: MemoryStore, SQLiteStore, DBStore (MySQL), PostgresStore, RedisStore, FileStore');
  });
});
