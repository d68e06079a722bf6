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
import { type TableLayoutName, tableLayoutOption } from './sql/table-layouts.js';
import { MySqlDriver } from './sql/mysql-driver.js';
import type { StoreUrl } from './url-params.js';
import { openNow } from './open-now.js';

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
  /** Create the table when it is missing (default true); false: a missing table fails with NOT_FOUND. */
  create?: boolean;
  /**
   * The layout of a new table: 'zoho-v6' (default, today's SDKs), 'zoho-v2', 'zcrmsdk' or
   * 'python' (docs/sql-layouts.md). An existing table's layout is read from its columns; when
   * given, it must agree.
   */
  layout?: TableLayoutName;
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
      create: options.create,
      layout: tableLayoutOption('DBStore', options.layout),
    });
    this.host = host;
    this.port = port;
    this.database = database;
    this.table = table;
  }
}

/**
 * The store a `mysql://user:pass@host:port/database` URL names (see url.ts): `?table=`, `?layout=`,
 * `?connectionLimit=`, `?connectTimeoutMs=`, `?queryTimeoutMs=`, as the options. With create
 * false it connects now and fails if the table is missing.
 */
export async function mysqlStoreFromUrl(url: StoreUrl, create: boolean): Promise<DBStore> {
  const parsed = url.parse();
  const params = url.params(['table', 'layout', 'connectionLimit', 'connectTimeoutMs', 'queryTimeoutMs']);
  const store = new DBStore({
    host: parsed.hostname || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : undefined,
    table: params.string('table'),
    connectionLimit: params.number('connectionLimit'),
    connectTimeoutMs: params.number('connectTimeoutMs'),
    queryTimeoutMs: params.number('queryTimeoutMs'),
    create,
    layout: params.string('layout') as TableLayoutName | undefined,
  });
  return create ? store : openNow(store, () => store.open());
}
