/**
 * A Redis Cluster for the tests: the one CI started (ZTOKEN_REDIS_CLUSTER_URL, see .ci/run), or a
 * throwaway 3-master cluster started here with .ci/redis-cluster on free loopback ports and
 * stopped by `stop()`. Without redis-server the cluster tests skip (or fail the run when
 * ZTOKEN_REQUIRE_SERVICES=1).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '..', '..', '.ci', 'redis-cluster');

export interface TestCluster {
  url: string;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port whose three ports and their cluster-bus ports (+10000) are free. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = [0, 1, 2].flatMap((i) => [base + i, base + i + 10_000]);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free ports for a test Redis Cluster');
}

/** The cluster to test on, or null (with the reason) when none can be had. */
export async function testCluster(): Promise<TestCluster | { skip: string }> {
  const given = process.env.ZTOKEN_REDIS_CLUSTER_URL;
  if (given) return { url: given, stop: async () => undefined };
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    const why = 'redis-server is not installed (or set ZTOKEN_REDIS_CLUSTER_URL)';
    if (process.env.ZTOKEN_REQUIRE_SERVICES === '1')
      throw new Error(`Redis Cluster: ${why}; ZTOKEN_REQUIRE_SERVICES=1 so this fails the run`);
    return { skip: why };
  }
  const parent = mkdtempSync(join(tmpdir(), 'ztoken-cluster-'));
  const dir = join(parent, 'nodes');
  const { stdout } = await run(SCRIPT, ['start', dir, String(await freeBasePort())]);
  return {
    url: stdout.trim(),
    stop: async () => {
      await run(SCRIPT, ['stop', dir]);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
