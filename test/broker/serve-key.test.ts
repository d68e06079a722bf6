/** `ztoken serve-key add|list|remove`: the key printed once on stdout, only its hash in the 0600 file. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/broker/keys-file.js';
import { main } from '../../src/cli/program.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-serve-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'ztoken', ...args], {
    env: { NO_COLOR: '1' },
    stdout: {
      write: (t: string) => {
        stdout += t;
        return true;
      },
    } as unknown as NodeJS.WriteStream,
    stderr: {
      write: (t: string) => {
        stderr += t;
        return true;
      },
    } as unknown as NodeJS.WriteStream,
  });
  return { code, stdout, stderr };
}

describe('ztoken serve-key', () => {
  const keys = join(dir, 'keys.json');

  it('add prints the key once and stores only its hash, mode 0600', async () => {
    const added = await run('serve-key', 'add', '--keys', keys, '--name', 'billing', '--allow-user', 'alice@x.com', '--allow-id', '7');
    expect(added.code).toBe(0);
    const key = added.stdout.trim();
    expect(key).toMatch(/^ztk_[A-Za-z0-9_-]{43}$/);
    expect(added.stderr).toContain('shown this once');
    expect(added.stderr).not.toContain(key);
    const file = readFileSync(keys, 'utf8');
    expect(file).not.toContain(key);
    expect(file).toContain(hashKey(key));
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    const listed = await run('serve-key', 'list', '--keys', keys);
    expect(listed.stdout).toMatch(/billing\s.*user alice@x\.com, id 7/);
    expect(listed.stdout).not.toContain(key);
  });

  it('refuses a key granted nothing, a duplicate name and a bad name; the file is untouched', async () => {
    const before = readFileSync(keys, 'utf8');
    expect((await run('serve-key', 'add', '--keys', keys, '--name', 'nothing')).code).toBe(2);
    const dup = await run('serve-key', 'add', '--keys', keys, '--name', 'billing', '--allow-all');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already has a key named billing');
    expect((await run('serve-key', 'add', '--keys', keys, '--name', 'bad name!', '--allow-all')).code).toBe(1);
    expect(readFileSync(keys, 'utf8')).toBe(before);
  });

  it('remove drops the key', async () => {
    expect((await run('serve-key', 'remove', 'billing', '--keys', keys)).code).toBe(0);
    expect((await run('serve-key', 'remove', 'billing', '--keys', keys)).code).toBe(1);
    expect((await run('serve-key', 'list', '--keys', keys)).stdout).toContain('No keys');
  });
});
