/** The messages between a fleet's parent (fleet-driver.ts) and its children (fleet-worker.ts). */

export interface FleetWorkerConfig {
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  /** The user every caller asks for (`getAccessToken({ userName })`). */
  userName: string;
  lockTtlMs: number;
  /** Per-DC servers (one emulator per DC); unset: `accountsUrl` serves the configured DC. */
  dataCenterUrls?: Partial<Record<string, { accountsUrl: string }>>;
}

/** Which of the child's two managers: refreshes under the store's lock, or `coordinate: false`. */
export type FleetMode = 'coordinated' | 'uncoordinated';

/** `offset` = the emulator's now - Date.now(), so the child's clock is the emulator's. */
export type FleetCommand =
  /** Closes the current store (if any) and opens this one (none: null), with two fresh managers. */
  | { cmd: 'use'; seq: number; storeUrl: string | null }
  | { cmd: 'get'; seq: number; offset: number; mode: FleetMode; callers: number; userName?: string }
  | { cmd: 'fetch'; seq: number; offset: number; mode: FleetMode; calls: number }
  | { cmd: 'hold'; seq: number; key: string; ttlMs: number }
  | { cmd: 'exit'; seq: number };

/** Refresh events each of the child's managers has fired so far. */
export interface RefreshCounts {
  coordinated: number;
  uncoordinated: number;
}

export interface GetReply {
  /** Access token -> how many callers got it. */
  tokens: Record<string, number>;
  failures: string[];
  refreshes: RefreshCounts;
}

export interface FetchReply {
  succeeded: number;
  failed: number;
  throttled: number;
  /** The first few failures, for the message of a failing assertion. */
  failures: string[];
  refreshes: RefreshCounts;
}

export type FleetReply =
  | ({ seq: number; ok: true } & Partial<GetReply> & Partial<FetchReply> & { pid?: number; lockedAt?: number })
  | { seq: number; ok: false; error: string };
