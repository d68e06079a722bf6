/**
 * The `ztoken emulator --help` examples work when copied: the emulator runs, the printed settings
 * point ztoken at its client, and the exchange saves a token. The lines after the first run in
 * bash exactly as the help prints them (the port swapped for a free one), with `ztoken` on PATH.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { childEnv, freePort, MAIN, runCli, startCli, TSX, tempDir } from './helpers.js';

const temp = tempDir('ztoken-emulator-example');
afterAll(() => temp.remove());

describe('ztoken emulator --help', () => {
  test('its examples, copied, exchange a grant token on the emulator', async () => {
    const help = await runCli(['emulator', '--help']);
    const examples = help.stdout
      .slice(help.stdout.indexOf('Examples:'))
      .split('\n')
      .filter((line) => line.startsWith('  $ '))
      .map((line) => line.slice(4));
    expect(examples).toHaveLength(3);
    const port = String(await freePort());
    const lines = examples.map((line) => line.replaceAll('8089', port));
    expect(lines[0]).toMatch(/^ztoken emulator --port \d+ &/);

    const emulator = startCli(['emulator', '--port', port]);
    try {
      await emulator.waitFor(/listening on/);
      const bin = join(temp.dir, 'bin');
      spawnSync('mkdir', ['-p', bin]);
      writeFileSync(join(bin, 'ztoken'), `#!/bin/sh\nexec "${TSX}" "${MAIN}" "$@"\n`);
      chmodSync(join(bin, 'ztoken'), 0o755);
      const env = childEnv({ PATH: `${bin}:${process.env.PATH ?? ''}` });
      const shell = spawnSync('bash', ['-e', '-c', lines.slice(1).join('\n')], { cwd: temp.dir, env, encoding: 'utf8', timeout: 30_000 });
      expect(shell.stderr).toBe('New token store sqlite:./emulator.db: it did not exist, so it is created.\n');
      expect(shell.status).toBe(0);
      expect(shell.stdout).toMatch(/✓ Saved token 1/);
    } finally {
      emulator.child.kill('SIGINT');
      await emulator.result;
    }
    const store = new SQLiteStore({ path: join(temp.dir, 'emulator.db'), create: false });
    expect((await store.getTokens()).map((t) => t.clientId)).toEqual(['1000.EMULATORCLIENT0000000000000000']);
    await store.close();
  }, 60_000);
});
