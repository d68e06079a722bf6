/**
 * withLock sessions on MySQL/MariaDB: GET_LOCK on a dedicated connection, recorded in the side
 * table ztoken_locks by the same statement (so no holder is ever unrecorded, however it stops),
 * and KILL CONNECTION for a holder found past its expiry (a user may kill its own connections).
 * Times come from the server's clock, in UTC milliseconds, so hosts' clocks do not matter.
 */
import type * as MySql from 'mysql2/promise';
import { LOCK_TABLE } from './lock-expiry.js';
import { type LockHolder, type LockSession, rowsOf, type SqlRow, type StatementLimits, withStatementTimeout } from './sql-driver.js';

const TABLE = `\`${LOCK_TABLE}\``;
const NOW_MS = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(6)) DIV 1000)";

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLE} (name varchar(64) NOT NULL, owner varchar(64) NOT NULL, session_id bigint unsigned NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY (name)) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin`;
/** Takes the lock and records it in one statement: the row is written only when GET_LOCK took it. */
const TAKE_RECORDED = `INSERT INTO ${TABLE} (name, owner, session_id, expires_at) SELECT ?, ?, CONNECTION_ID(), ${NOW_MS} + ? FROM DUAL WHERE GET_LOCK(?, 0) = 1 ON DUPLICATE KEY UPDATE owner = VALUES(owner), session_id = VALUES(session_id), expires_at = VALUES(expires_at)`;
const TAKE_PLAIN = 'SELECT GET_LOCK(?, 0) AS got';
/** The record of the session that holds the lock now (an older holder's record does not match). */
const FIND_HOLDER = `SELECT session_id, owner, expires_at - ${NOW_MS} AS remaining_ms FROM ${TABLE} WHERE name = ? AND session_id = IS_USED_LOCK(?)`;
/**
 * The same holder, still expired, read with FOR UPDATE: a locking read waits for a record being
 * written right now and sees it, so a fresh holder is never mistaken for the expired one.
 */
const STILL_EXPIRED = `SELECT session_id FROM ${TABLE} WHERE name = ? AND owner = ? AND session_id = ? AND session_id = IS_USED_LOCK(?) AND expires_at <= ${NOW_MS} FOR UPDATE`;

const NO_SUCH_TABLE = 1146;
const TABLE_EXISTS = 1050;
/** CREATE or KILL not allowed for this user. */
const DENIED = new Set([1142, 1044, 1045, 1227, 1095]);
/** KILL of a connection that is already gone. */
const UNKNOWN_THREAD = 1094;

type Run = (sql: string, params?: readonly unknown[]) => Promise<SqlRow[]>;

const errnoOf = (error: unknown) => (error as { errno?: number } | null)?.errno ?? -1;

/**
 * Makes sure the side table exists (true), or finds that this user may not create it (false:
 * locks then work as before, expired only by their holder's own timer).
 */
export async function prepareMySqlLockTable(run: Run): Promise<boolean> {
  const present = await run('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [
    LOCK_TABLE,
  ]);
  if (Number(present[0]?.n) > 0) return true;
  try {
    await run(CREATE_TABLE);
    return true;
  } catch (error) {
    if (errnoOf(error) === TABLE_EXISTS) return true;
    if (DENIED.has(errnoOf(error))) return false;
    throw error;
  }
}

export class MySqlLockSession implements LockSession {
  /** The owner this session took its lock as, once taken. */
  private owner: string | null = null;

  constructor(
    private readonly connection: MySql.Connection,
    /** Whether the side table is there to record holders in. */
    private readonly recorded: boolean,
    private readonly limits: StatementLimits,
  ) {}

  /** Runs one statement, dropping the connection when the server does not answer in time. */
  private async run(sql: string, params: readonly unknown[] = [], text = false): Promise<unknown> {
    const work = text ? this.connection.query(sql) : this.connection.execute(sql, params as MySql.ExecuteValues[]);
    const [result] = await withStatementTimeout(work, this.limits.queryTimeoutMs, () => this.connection.destroy());
    return result;
  }

  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    if (!this.recorded) return Number(rowsOf(await this.run(TAKE_PLAIN, [name]))[0]?.got) === 1;
    const take = () => this.run(TAKE_RECORDED, [name, owner, Math.ceil(ttlMs), name]) as Promise<{ affectedRows?: number }>;
    // Someone dropped the side table: the statement failed before GET_LOCK ran; create it again.
    const result = await take().catch(async (error: unknown) => {
      if (errnoOf(error) !== NO_SUCH_TABLE) throw error;
      await this.run(CREATE_TABLE, [], true);
      return take();
    });
    if ((result.affectedRows ?? 0) === 0) return false;
    this.owner = owner;
    return true;
  }

  async findHolder(name: string): Promise<LockHolder | null> {
    if (!this.recorded) return null;
    let rows: SqlRow[];
    try {
      rows = rowsOf(await this.run(FIND_HOLDER, [name, name]));
    } catch (error) {
      if (errnoOf(error) === NO_SUCH_TABLE) return null;
      throw error;
    }
    const row = rows[0];
    if (!row) return null;
    return { session: Number(row.session_id), owner: String(row.owner), remainingMs: Number(row.remaining_ms) };
  }

  async endExpiredHolder(name: string, holder: LockHolder): Promise<boolean> {
    if (!Number.isSafeInteger(holder.session) || holder.session <= 0) return false;
    const rows = rowsOf(await this.run(STILL_EXPIRED, [name, holder.owner, holder.session, name]));
    if (rows.length === 0) return false;
    // One session takes a lock at most once: this one holds no fresh lock, now or later.
    try {
      await this.run(`KILL CONNECTION ${holder.session}`, [], true);
      return true;
    } catch (error) {
      if (errnoOf(error) === UNKNOWN_THREAD) return true;
      if (DENIED.has(errnoOf(error))) return false;
      throw error;
    }
  }

  async release(name: string): Promise<void> {
    // Our record goes first (only ours: a later holder's record has another owner), then the lock.
    if (this.owner !== null) await this.run(`DELETE FROM ${TABLE} WHERE name = ? AND owner = ?`, [name, this.owner]);
    await this.run('DO RELEASE_LOCK(?)', [name]);
    await withStatementTimeout(this.connection.end(), this.limits.queryTimeoutMs, () => this.connection.destroy());
  }

  destroy(): void {
    this.connection.destroy();
  }
}
