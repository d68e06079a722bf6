/**
 * The scale suite's three operations on one store kind at one size, plain and encrypted in
 * interleaved rounds: findToken (by refresh token, random user), a known user's save (the SDK's
 * save after a refresh: new access token) and a new user's save (a new id). Users are picked at
 * random among all of them, far more than the cipher cache holds: encryption is measured cold.
 */
import type { TokenStore } from '../../src/store.js';
import { type BenchContext, type MeasureOptions, seededRandom } from '../lib.js';
import { BENCH_CLIENT, benchToken, interleaved, type Measured } from '../lib-stores.js';
import type { ScaleStore } from './stores.js';

export const OPERATIONS = ['findToken (refresh token)', 'saveToken (known user)', 'saveToken (new user, new id)'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface Figures {
  plain: Measured;
  encrypted: Measured;
  /** Encrypted - plain: the median of the per-round differences. */
  addedUs: number;
  rounds: number;
}

export async function measureStore(
  ctx: BenchContext,
  kind: ScaleStore,
  size: number,
  subjects: [plain: TokenStore, encrypted: TokenStore],
): Promise<Map<Operation, Figures>> {
  const random = seededRandom(size);
  const pick = () => 1 + Math.floor(random() * size);
  const queries = Array.from({ length: 4096 }, () => {
    const i = pick();
    return { id: String(i), partial: { ...BENCH_CLIENT, refreshToken: benchToken(i).refreshToken } };
  });
  let q = 0;
  let version = 0;
  let added = 0;
  const fns: Record<Operation, (store: TokenStore) => () => Promise<unknown>> = {
    'findToken (refresh token)': (store) => async () => {
      const query = queries[q++ & 4095]!;
      const found = await store.findToken(query.partial);
      if (found?.id !== query.id) throw new Error(`lookup of ${query.id} found ${found?.id}`);
    },
    'saveToken (known user)': (store) => () =>
      store.saveToken({
        ...benchToken(pick()),
        id: undefined,
        accessToken: `1000.${(++version).toString(16).padStart(32, '0')}.${'0'.repeat(24)}${(0xacce55 + version).toString(16).padStart(8, '0')}`,
        expiryTime: 1_767_229_200_000 + version,
      }),
    'saveToken (new user, new id)': (store) => () => store.saveToken({ ...benchToken(size + 1 + added++), id: undefined }),
  };
  const out = new Map<Operation, Figures>();
  for (const operation of OPERATIONS) {
    const slow = kind.slowSaves && operation !== 'findToken (refresh token)' && size > 10_000;
    const options: { rounds: number } & MeasureOptions = slow
      ? { rounds: 3, timeMs: 0, iterations: 5, warmupIterations: 1 }
      : { rounds: 5, timeMs: ctx.quick ? 100 : 200, iterations: 20 };
    const measured = await interleaved(ctx, subjects.map(fns[operation]), options);
    const [plain, encrypted] = measured.figures as [Measured, Measured];
    out.set(operation, { plain, encrypted, addedUs: measured.difference(1, 0), rounds: options.rounds });
  }
  return out;
}
