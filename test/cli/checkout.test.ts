/** The CLI from a checkout: `npm run ztoken -- ARGS` runs it from source (what README and the demo name). */
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { childEnv } from './helpers.js';

function npmRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'ztoken', '--', ...args], { cwd: process.cwd(), env: childEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run ztoken', () => {
  test('runs the CLI with its arguments and exit code', async () => {
    const [list, usage] = await Promise.all([npmRun(['list', '--store', 'memory:']), npmRun(['list', '--store', ''])]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('No tokens in memory:.\n');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('The store URL is empty');
  }, 30_000);
});
