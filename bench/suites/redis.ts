/**
 * Issue 3 benchmark, RedisStore: findToken (by refresh token, random), findTokenById and
 * saveToken (update of a random user) at 1,000 / 10,000 / 100,000 tokens, beside the raw ioredis
 * HGETALL of one hash on the same server in the same run (the floor), and the two-round-trip
 * alternative to the find script (ZRANGE of the index, then HGETALL). Target: findToken within
 * 1.5x of the raw HGETALL, flat across sizes. Needs Redis at ZTOKEN_REDIS_URL (default local).
 */
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/stores/redis.js';
import type { BenchContext } from '../lib.js';
import { seededRandom } from '../lib.js';
import { BENCH_CLIENT, benchToken, interleaved } from '../lib-stores.js';

const SUITE = 'redis';
const url = process.env.ZTOKEN_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function measureSize(ctx: BenchContext, raw: Redis, count: number): Promise<void> {
  const prefix = `ztbench_${process.pid}_${count}:`;
  const store = new RedisStore({ url, prefix });
  try {
    await store.deleteTokens();
    const started = performance.now();
    const BATCH = 10_000;
    for (let start = 1; start <= count; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, count - start + 1) }, (_, k) => benchToken(start + k));
      await store.importTokens(batch);
    }
    const loadUs = (performance.now() - started) * 1000;
    ctx.record({
      suite: SUITE,
      subject: 'RedisStore',
      operation: 'importTokens (pipelined load), per token',
      tokens: count,
      medianUs: loadUs / count,
      samples: count,
      note: `${(loadUs / 1e6).toFixed(2)} s in all`,
    });

    const random = seededRandom(count);
    const pick = () => 1 + Math.floor(random() * count);
    // Lookups are built before timing so the figures are the store's, not the harness's.
    const queries = Array.from({ length: 4096 }, () => {
      const i = pick();
      return {
        id: String(i),
        key: store.keys.token(String(i)),
        index: store.keys.index('refreshToken', benchToken(i).refreshToken!),
        partial: { ...BENCH_CLIENT, refreshToken: benchToken(i).refreshToken },
      };
    });
    let q = 0;
    const next = () => queries[q++ & 4095]!;
    // Warm both paths (JIT, connection, script cache) so the first one measured is not penalised.
    for (let i = 0; i < 2_000; i++) {
      const query = next();
      await raw.hgetall(query.key);
      await store.findToken(query.partial);
    }

    // Measured in alternation, round after round, so a load change on the machine hits every
    // subject alike and the ratios hold; each figure is the median of its rounds' medians.
    const {
      figures: [hgetall, twoTrips, find, byId],
    } = await interleaved(
      ctx,
      [
        async () => {
          const query = next();
          const hash = await raw.hgetall(query.key);
          if (hash.id !== query.id) throw new Error(`HGETALL of ${query.id} read ${hash.id}`);
        },
        async () => {
          const query = next();
          const [id] = await raw.zrange(query.index, '0', '0');
          const hash = await raw.hgetall(`${prefix}token:${id}`);
          if (hash.id !== query.id) throw new Error(`index lookup of ${query.id} read ${hash.id}`);
        },
        async () => {
          const query = next();
          const found = await store.findToken(query.partial);
          if (found?.id !== query.id) throw new Error(`lookup of ${query.id} found ${found?.id}`);
        },
        async () => {
          const query = next();
          const found = await store.findTokenById(query.id);
          if (found?.id !== query.id) throw new Error(`findTokenById ${query.id} found ${found?.id}`);
        },
      ],
      { rounds: 7, timeMs: 150, iterations: 50 },
    );
    const floor = hgetall!.medianUs;
    ctx.record({ suite: SUITE, subject: 'raw ioredis', operation: 'HGETALL of one hash', tokens: count, ...hgetall!, note: 'the floor' });
    ctx.record({
      suite: SUITE,
      subject: 'raw ioredis',
      operation: 'ZRANGE index + HGETALL (2 round trips)',
      tokens: count,
      ...twoTrips!,
      note: `${(twoTrips!.medianUs / floor).toFixed(2)}x raw HGETALL: the alternative to the find script`,
    });
    ctx.record({
      suite: SUITE,
      subject: 'RedisStore',
      operation: 'findToken (by refresh token)',
      tokens: count,
      ...find!,
      note: `${(find!.medianUs / floor).toFixed(2)}x raw HGETALL`,
    });
    ctx.record({
      suite: SUITE,
      subject: 'RedisStore',
      operation: 'findTokenById',
      tokens: count,
      ...byId!,
      note: `${(byId!.medianUs / floor).toFixed(2)}x raw HGETALL`,
    });

    let n = 0;
    const save = await ctx.measure(async () => {
      const i = pick();
      n++;
      await store.saveToken({ ...benchToken(i), accessToken: `1000.updated.${n}`, expiryTime: 1_800_000_000_000 + n });
    });
    ctx.record({
      suite: SUITE,
      subject: 'RedisStore',
      operation: 'saveToken (update)',
      tokens: count,
      ...save,
      note: 'one Lua script: relocate, rewrite hash and index',
    });

    // Batches of 500 tokens, one script each: meanwhile another client PINGs the server over and
    // over, and the slowest answer is how long the deletion kept others waiting.
    let deleting = true;
    let longestPingUs = 0;
    const pinging = (async () => {
      while (deleting) {
        const sent = performance.now();
        await raw.ping();
        longestPingUs = Math.max(longestPingUs, (performance.now() - sent) * 1000);
      }
    })();
    const dropStarted = performance.now();
    await store.deleteTokens().finally(() => {
      deleting = false;
    });
    const dropUs = (performance.now() - dropStarted) * 1000;
    await pinging;
    ctx.record({
      suite: SUITE,
      subject: 'RedisStore',
      operation: 'deleteTokens (all, scripts of 500 tokens)',
      tokens: count,
      medianUs: dropUs,
      samples: 1,
      note: `another client waited at most ${(longestPingUs / 1000).toFixed(1)} ms (PING) meanwhile`,
    });
  } finally {
    await store.deleteTokens().catch(() => undefined);
    await store.close();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const raw = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await raw.ping();
    for (const count of ctx.sizes) await measureSize(ctx, raw, count);
  } finally {
    raw.disconnect();
  }
}
