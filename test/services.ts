/**
 * Where the real services live for tests, and whether to run or skip their tests.
 * Without ZTOKEN_REQUIRE_SERVICES a missing service skips its tests with a clear message;
 * with ZTOKEN_REQUIRE_SERVICES=1 (CI) a missing service fails the run.
 */
import { connect } from 'node:net';

export const MYSQL_URL = process.env.ZTOKEN_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const POSTGRES_URL = process.env.ZTOKEN_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.ZTOKEN_REDIS_URL ?? 'redis://127.0.0.1:6379';

const REQUIRED = process.env.ZTOKEN_REQUIRE_SERVICES === '1';

function reachable(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves true when the service at `url` accepts connections. Otherwise: throws when services
 * are required, else warns and resolves false (use with `describe.skipIf(!available)`).
 */
export async function serviceAvailable(name: string, url: string, envVar: string): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || { 'mysql:': 3306, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 }[parsed.protocol]);
  if (await reachable(parsed.hostname, port)) return true;
  const message = `${name} is not reachable at ${parsed.hostname}:${port} (set ${envVar} to point elsewhere)`;
  if (REQUIRED) throw new Error(`${message}; ZTOKEN_REQUIRE_SERVICES=1 so this fails the run`);
  console.warn(`SKIPPED: ${name} tests: ${message}`);
  return false;
}

/** A name unique to this test run, for databases, tables and key prefixes that tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}
