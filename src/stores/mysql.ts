/**
 * DBStore: Zoho's oauthtoken table in MySQL or MariaDB, with Zoho's defaults (localhost:3306,
 * database zohooauth, table oauthtoken, user root, empty password). Unlike the official DBStore
 * it keeps one pool, indexes the lookup columns, numbers ids numerically ("9" < "10"), and
 * saves in a transaction so concurrent processes never duplicate a user. The table is created
 * when missing (the database is not); the connection opens on first use. withLock records its
 * holders in a side table `ztoken_locks` (created when missing) so that waiters can end a holder
 * whose lock has expired, even one that is frozen.
 */
import { TokenStoreError } from '../errors.js';
import { positiveOption } from './options.js';
import { AsyncSqlStore } from './sql/async-sql-store.js';
import { validateTableName } from './sql/identifier.js';
import { MySqlDriver } from './sql/mysql-driver.js';

export interface DBStoreOptions {
  /** Default 'localhost'. */
  host?: string;
  /** Default 'zohooauth'. The database must exist; the table is created when missing. */
  database?: string;
  /** Default 'oauthtoken' (a plain identifier). */
  table?: string;
  /** Default 'root'. */
  user?: string;
  /** Default ''. */
  password?: string;
  /** Default 3306. */
  port?: number;
  /** Most connections the store's pool opens (default 10). */
  connectionLimit?: number;
  /** How long connecting may take before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * How long the server may take to answer a statement before the call fails with UNAVAILABLE
   * and the connection is dropped (default 15000 ms). Statements that wait for a row or insert
   * lock get the server's lock wait (15 s) on top; creating the table or an index has no limit.
   */
  queryTimeoutMs?: number;
}

export class DBStore extends AsyncSqlStore {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly table: string;

  constructor(options: DBStoreOptions = {}) {
    const table = validateTableName(options.table ?? 'oauthtoken');
    const host = options.host ?? 'localhost';
    const port = options.port ?? 3306;
    const database = options.database ?? 'zohooauth';
    if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
      throw new TokenStoreError('INVALID_ARGUMENT', `Invalid DBStore port ${JSON.stringify(port)}: expected 1 to 65535`);
    }
    if (typeof database !== 'string' || database.length === 0 || database.length > 64) {
      throw new TokenStoreError('INVALID_ARGUMENT', 'Invalid DBStore database: expected a name of 1 to 64 characters');
    }
    super({
      driver: new MySqlDriver({
        host,
        port,
        user: options.user ?? 'root',
        password: options.password ?? '',
        database,
        table,
        connectionLimit: positiveOption('DBStore', 'connectionLimit', options.connectionLimit, 10),
        connectTimeoutMs: positiveOption('DBStore', 'connectTimeoutMs', options.connectTimeoutMs, 5_000),
        queryTimeoutMs: positiveOption('DBStore', 'queryTimeoutMs', options.queryTimeoutMs, 15_000),
      }),
      table,
    });
    this.host = host;
    this.port = port;
    this.database = database;
    this.table = table;
  }
}
