/**
 * withLock sessions on PostgreSQL: a session advisory lock on a dedicated client, recorded in the
 * side table ztoken_locks by the same statement (so no holder is ever unrecorded, however it
 * stops), and pg_terminate_backend for a holder found past its expiry (allowed for backends of
 * the same role). Times come from the server's clock, in epoch milliseconds.
 */
import type pg from 'pg';
import { type LockHolder, type LockSession, type SqlRow, type StatementLimits, withStatementTimeout } from './sql-driver.js';

const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';
const KEY = 'hashtextextended($1::text, 0)';
/** Backend `pid` holds the advisory lock of key $1 in this database (a bigint key shows as two halves). */
const HOLDS = (pid: string) => `EXISTS (SELECT 1 FROM pg_locks k
   WHERE k.locktype = 'advisory' AND k.granted AND k.pid = ${pid} AND k.objsubid = 1
     AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND k.classid::bigint = (${KEY} >> 32) & 4294967295 AND k.objid::bigint = ${KEY} & 4294967295)`;

/** Insufficient privilege; a concurrent creator won (duplicate relation / catalog row). */
const DENIED = '42501';
const CREATED_BY_OTHER = new Set(['42P07', '23505']);
const NO_SUCH_TABLE = '42P01';

interface Statements {
  create: string;
  takeRecorded: string;
  findHolder: string;
  endExpired: string;
  release: string;
}

/** The statements for the side table `table` (already quoted, maybe schema-qualified). */
export function lockStatements(table: string): Statements {
  return {
    // UNLOGGED: records matter only while their sessions live, and writing them costs no WAL flush.
    create: `CREATE UNLOGGED TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, owner text NOT NULL, pid integer NOT NULL, expires_at bigint NOT NULL)`,
    // The CTE runs once (it calls a volatile function): the row is written only when the lock was taken.
    takeRecorded: `WITH attempt AS (SELECT pg_try_advisory_lock(${KEY}) AS got)
      INSERT INTO ${table} (name, owner, pid, expires_at) SELECT $1, $2, pg_backend_pid(), ${NOW_MS} + $3::bigint FROM attempt WHERE got
      ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, pid = EXCLUDED.pid, expires_at = EXCLUDED.expires_at
      RETURNING pid`,
    findHolder: `SELECT l.pid, l.owner, l.expires_at - ${NOW_MS} AS remaining_ms FROM ${table} l WHERE l.name = $1 AND ${HOLDS('l.pid')}`,
    // FOR UPDATE waits for a record being written right now and re-checks it, so a fresh holder
    // (a new owner) is never mistaken for the expired one.
    endExpired: `WITH expired AS (
        SELECT l.pid FROM ${table} l WHERE l.name = $1 AND l.owner = $2 AND l.pid = $3 AND l.expires_at <= ${NOW_MS} FOR UPDATE)
      SELECT pg_terminate_backend(e.pid) AS ended FROM expired e WHERE ${HOLDS('e.pid')}`,
    // Our record (only ours: a later holder's record has another owner) and the lock, in one go.
    release: `WITH mine AS (DELETE FROM ${table} WHERE name = $1 AND owner = $2) SELECT pg_advisory_unlock(${KEY})`,
  };
}

type Run = (sql: string, params?: readonly unknown[]) => Promise<SqlRow[]>;

/**
 * Makes sure the side table `table` exists (true), or finds that this role may not create it
 * (false: locks then work as before, expired only by their holder's own timer).
 */
export async function preparePostgresLockTable(run: Run, table: string): Promise<boolean> {
  if ((await run('SELECT to_regclass($1) IS NOT NULL AS present', [table]))[0]?.present === true) return true;
  try {
    await run(lockStatements(table).create);
    return true;
  } catch (error) {
    const code = (error as { code?: string } | null)?.code ?? '';
    if (CREATED_BY_OTHER.has(code)) return true;
    if (code === DENIED) return false;
    throw error;
  }
}

export class PostgresLockSession implements LockSession {
  private readonly statements: Statements;
  /** The owner this session took its lock as, once taken. */
  private owner: string | null = null;

  constructor(
    private readonly client: pg.Client,
    table: string,
    /** Whether the side table is there to record holders in. */
    private readonly recorded: boolean,
    private readonly limits: StatementLimits,
  ) {
    this.statements = lockStatements(table);
  }

  /** One statement within the query time limit (pg fails it; destroy() then drops the client). */
  private async run(text: string, values: unknown[]): Promise<SqlRow[]> {
    const config = { text, values, query_timeout: this.limits.queryTimeoutMs };
    return (await this.client.query(config)).rows as SqlRow[];
  }

  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    if (!this.recorded) {
      return (await this.run(`SELECT pg_try_advisory_lock(${KEY}) AS got`, [name]))[0]?.got === true;
    }
    const take = () => this.run(this.statements.takeRecorded, [name, owner, Math.ceil(ttlMs)]);
    // Someone dropped the side table: the statement failed before the lock was tried; create it again.
    const taken = await take().catch(async (error: unknown) => {
      if ((error as { code?: string }).code !== NO_SUCH_TABLE) throw error;
      await this.run(this.statements.create, []).catch((again: unknown) => {
        if (!CREATED_BY_OTHER.has((again as { code?: string }).code ?? '')) throw again;
      });
      return take();
    });
    if (taken.length === 0) return false;
    this.owner = owner;
    return true;
  }

  async findHolder(name: string): Promise<LockHolder | null> {
    if (!this.recorded) return null;
    let rows: SqlRow[];
    try {
      rows = await this.run(this.statements.findHolder, [name]);
    } catch (error) {
      if ((error as { code?: string }).code === NO_SUCH_TABLE) return null;
      throw error;
    }
    const row = rows[0];
    if (!row) return null;
    return { session: Number(row.pid), owner: String(row.owner), remainingMs: Number(row.remaining_ms) };
  }

  async endExpiredHolder(name: string, holder: LockHolder): Promise<boolean> {
    try {
      const rows = await this.run(this.statements.endExpired, [name, holder.owner, holder.session]);
      return rows[0]?.ended === true;
    } catch (error) {
      if ((error as { code?: string }).code === DENIED) return false;
      throw error;
    }
  }

  async release(name: string): Promise<void> {
    if (this.owner === null) await this.run(`SELECT pg_advisory_unlock(${KEY})`, [name]);
    else await this.run(this.statements.release, [name, this.owner]);
    await withStatementTimeout(this.client.end(), this.limits.queryTimeoutMs, () => this.destroy());
  }

  destroy(): void {
    // Closing the socket ends the backend, which frees its locks; no goodbye a hung server would hold up.
    this.client.connection.stream.destroy();
  }
}
