/**
 * Background refresh: every token of the manager's client is refreshed `aheadMs` before it
 * expires, so no reader waits on Zoho. Each token has one timer, placed at a random point of its
 * window [expiry - aheadMs, expiry - aheadMs + jitterMs] so that many tokens (and two brokers on
 * one store) do not all call Zoho at one instant. The refresh itself is the manager's own path:
 * single flight in the process and the store's fleet lock across processes, with a re-read under
 * the lock, so the second broker to wake finds the token the first one saved and refreshes nothing.
 * A throttled refresh keeps the still-valid token and is tried again when Zoho's backoff ends.
 */
import { ReauthorizationRequiredError, TokenStoreError, ZTokenError } from '../errors.js';
import type { StoredToken } from '../token.js';

export interface AutoRefreshOptions {
  /** Refresh this long before expiry (default 10 minutes). */
  aheadMs?: number;
  /** Spread each refresh over this much of the window after `expiry - aheadMs` (default aheadMs / 2). */
  jitterMs?: number;
  /** How often the store is listed to find new or deleted tokens (default 60 s). */
  scanIntervalMs?: number;
  /** After a failed refresh that gave no retry time, try again after this long (default 30 s, at most aheadMs / 4). */
  retryMs?: number;
  /** Called after each background refresh attempt (for metrics and logs). */
  onResult?: (result: AutoRefreshResult) => void;
}

/** One background attempt: ok when the store now holds a token valid beyond the window (refreshed here or elsewhere). */
export type AutoRefreshResult =
  | { tokenId: string; ok: true; expiryTime: number | undefined }
  | { tokenId: string; ok: false; error: Error };

/** What the refresher needs from its TokenManager (token-manager.ts passes these). */
export interface AutoRefreshHooks {
  now(): number;
  /** The stored tokens of the manager's client. */
  listTokens(): Promise<StoredToken[]>;
  /** The manager's refresh path, due when the token is within `marginMs` of expiry. */
  refresh(token: StoredToken, marginMs: number): Promise<StoredToken>;
  /** Until when refreshes of this token back off after a throttle (epoch ms), if they do. */
  backoffUntil(id: string): number | undefined;
  needsReauthorization(id: string): boolean;
}

/** Stops the refresher; resolves when a refresh it started has finished (its lock released). */
export type StopAutoRefresh = () => Promise<void>;

const DEFAULT_AHEAD_MS = 10 * 60_000;
/** setTimeout's limit (about 24.8 days); longer waits are cut into steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkMs(value: number | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', `startAutoRefresh: ${name} must be a number of ms >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function startAutoRefresh(options: AutoRefreshOptions, hooks: AutoRefreshHooks): StopAutoRefresh {
  const aheadMs = checkMs(options.aheadMs, 'aheadMs', DEFAULT_AHEAD_MS, 1);
  const jitterMs = Math.min(checkMs(options.jitterMs, 'jitterMs', aheadMs / 2), aheadMs);
  const scanIntervalMs = checkMs(options.scanIntervalMs, 'scanIntervalMs', 60_000, 10);
  const retryMs = checkMs(options.retryMs, 'retryMs', Math.max(10, Math.min(30_000, aheadMs / 4)), 1);
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  const report = (result: AutoRefreshResult) => {
    try {
      options.onResult?.(result);
    } catch {
      // A failing listener must not stop the refresher.
    }
  };

  const schedule = (id: string, at: number) => {
    clearTimeout(timers.get(id));
    if (stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - hooks.now()));
    const timer = setTimeout(() => {
      timers.delete(id);
      if (hooks.now() + 1 < at)
        schedule(id, at); // a wait longer than one timer allows
      else track(refreshOne(id));
    }, delay);
    timer.unref();
    timers.set(id, timer);
  };

  /** A point in the token's refresh window (now, if the window has begun). */
  const dueAt = (token: StoredToken) => (token.expiryTime ?? 0) - aheadMs + Math.random() * jitterMs;

  const known = new Map<string, StoredToken>();
  /** Token ids whose refresh is running now. */
  const busy = new Set<string>();

  const refreshOne = async (id: string) => {
    const token = known.get(id);
    if (!token || stopped || busy.has(id)) return;
    busy.add(id);
    try {
      const before = token.accessToken;
      const after = await hooks.refresh(token, aheadMs);
      known.set(id, after);
      const backoff = hooks.backoffUntil(id);
      const expiry = after.expiryTime ?? 0;
      if (after.accessToken === before && expiry - hooks.now() <= aheadMs) {
        // Nothing new: throttled (kept the valid token) or Zoho unreachable. Try again later.
        const error = new ZTokenError(
          'AUTO_REFRESH',
          'NO_NEW_TOKEN',
          `No new access token for token id ${id} yet (throttled or Zoho unreachable)`,
        );
        report({ tokenId: id, ok: false, error });
        schedule(id, backoff !== undefined && backoff > hooks.now() ? backoff : hooks.now() + retryMs);
        return;
      }
      report({ tokenId: id, ok: true, expiryTime: after.expiryTime });
      schedule(id, dueAt(after));
    } catch (error) {
      report({ tokenId: id, ok: false, error: error as Error });
      if (error instanceof ReauthorizationRequiredError || (error instanceof TokenStoreError && error.reason === 'NOT_FOUND')) {
        // Nothing to retry until the user authorizes again or the token reappears: the next scan sees it.
        known.delete(id);
        return;
      }
      const backoff = hooks.backoffUntil(id);
      schedule(id, backoff !== undefined && backoff > hooks.now() ? backoff : hooks.now() + retryMs);
    } finally {
      busy.delete(id);
    }
  };

  const track = (work: Promise<void>) => {
    running.add(work);
    void work.finally(() => running.delete(work));
  };

  /** Lists the store: new tokens get a timer, deleted ones lose theirs, changed expiries move theirs. */
  const scan = async () => {
    let tokens: StoredToken[];
    try {
      tokens = await hooks.listTokens();
    } catch (error) {
      report({ tokenId: '*', ok: false, error: error as Error });
      return;
    }
    if (stopped) return;
    const seen = new Set<string>();
    for (const token of tokens) {
      if (!token.refreshToken || hooks.needsReauthorization(token.id)) continue;
      seen.add(token.id);
      const previous = known.get(token.id);
      if (busy.has(token.id)) continue; // its refresh is running; it reschedules itself
      known.set(token.id, token);
      // A new token, or one another process refreshed (its expiry moved): (re)place its timer.
      if (!timers.has(token.id) || previous?.expiryTime !== token.expiryTime) schedule(token.id, dueAt(token));
    }
    for (const id of [...known.keys()]) {
      if (seen.has(id)) continue;
      known.delete(id);
      clearTimeout(timers.get(id));
      timers.delete(id);
    }
  };

  track(scan());
  const scanner = setInterval(() => track(scan()), scanIntervalMs);
  scanner.unref();

  return async () => {
    stopped = true;
    clearInterval(scanner);
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    while (running.size > 0) await Promise.allSettled([...running]);
  };
}
