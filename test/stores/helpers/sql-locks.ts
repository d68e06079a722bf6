/**
 * Server-side views of withLock for the lock-expiry tests: the side table ztoken_locks (which
 * session took which lock, as which owner) and whether a session is still connected.
 */
import { mysqlAdmin, postgresAdmin } from './sql-admin.js';

export interface LockRecord {
  name: string;
  owner: string;
  /** MySQL connection id or PostgreSQL backend pid of the session that took the lock. */
  session: number;
  /** Whether that session holds the lock now. */
  held: boolean;
}

export async function mysqlLockRecords(database: string): Promise<LockRecord[]> {
  const admin = await mysqlAdmin(database);
  try {
    const [rows] = await admin.query(
      'SELECT name, owner, session_id, COALESCE(IS_USED_LOCK(name) = session_id, 0) AS held FROM ztoken_locks ORDER BY name',
    );
    return (rows as { name: string; owner: string; session_id: string | number; held: number }[]).map((r) => ({
      name: r.name,
      owner: r.owner,
      session: Number(r.session_id),
      held: Number(r.held) === 1,
    }));
  } finally {
    await admin.end();
  }
}

export async function mysqlSessionAlive(id: number): Promise<boolean> {
  const admin = await mysqlAdmin();
  try {
    const [rows] = await admin.query("SELECT COMMAND AS command FROM information_schema.PROCESSLIST WHERE ID = ? AND COMMAND <> 'Killed'", [
      id,
    ]);
    return (rows as unknown[]).length > 0;
  } finally {
    await admin.end();
  }
}

export async function postgresLockRecords(schema: string): Promise<LockRecord[]> {
  const admin = await postgresAdmin();
  try {
    const { rows } = await admin.query(
      `SELECT l.name, l.owner, l.pid,
              EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted AND k.pid = l.pid) AS held
         FROM "${schema}".ztoken_locks l ORDER BY l.name`,
    );
    return rows.map((r) => ({ name: r.name, owner: r.owner, session: Number(r.pid), held: r.held === true }));
  } finally {
    await admin.end();
  }
}

export async function postgresSessionAlive(pid: number): Promise<boolean> {
  const admin = await postgresAdmin();
  try {
    return (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rows.length > 0;
  } finally {
    await admin.end();
  }
}
