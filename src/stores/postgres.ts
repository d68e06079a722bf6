/**
 * PostgresStore: Zoho's oauthtoken table (same columns as the MySQL DBStore) in PostgreSQL.
 * One pg Pool per store, opened on first use; the table and its indexes are created when
 * missing; saves are update-else-insert in one transaction with row locks plus an advisory lock
 * on the insert path; withLock uses session advisory locks on a dedicated connection, and records
 * its holders in a side table `ztoken_locks` (in the table's schema, created when missing) so that
 * waiters can end a holder whose lock has expired, even one that is frozen.
 */
import { TokenStoreError } from '../errors.js';
import { positiveOption } from './options.js';
import { AsyncSqlStore } from './sql/async-sql-store.js';
import { validateTableName } from './sql/identifier.js';
import { PostgresDriver } from './sql/postgres-driver.js';

export interface PostgresStoreOptions {
  /** e.g. postgres://user:pass@host:5432/db; wins over host, port, database, user and password. */
  connectionString?: string;
  /** Default 'localhost'. */
  host?: string;
  /** Default 5432. */
  port?: number;
  /** Default 'zohooauth'. The database must exist; the table is created when missing. */
  database?: string;
  /** Default 'postgres'. */
  user?: string;
  password?: string;
  /** Default 'oauthtoken' (a plain identifier). */
  table?: string;
  /** Schema of the table (default: the connection's search_path). Must exist. */
  schema?: string;
  /** Most connections the store's pool opens (default 10). */
  max?: number;
  /** How long connecting may take before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * How long the server may take to answer a statement before the call fails with UNAVAILABLE
   * and the connection is dropped (default 15000 ms). Statements that wait for a row or advisory
   * lock get the server's lock wait (15 s) on top; creating the table or an index has no limit.
   */
  queryTimeoutMs?: number;
}

export class PostgresStore extends AsyncSqlStore {
  readonly table: string;
  readonly schema: string | undefined;

  constructor(options: PostgresStoreOptions = {}) {
    const table = validateTableName(options.table ?? 'oauthtoken');
    const schema = options.schema === undefined ? undefined : validateSchema(options.schema);
    const port = options.port ?? 5432;
    if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
      throw new TokenStoreError('INVALID_ARGUMENT', `Invalid PostgresStore port ${JSON.stringify(port)}: expected 1 to 65535`);
    }
    if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
      throw new TokenStoreError('INVALID_ARGUMENT', 'Invalid PostgresStore connectionString: expected a string');
    }
    super({
      driver: new PostgresDriver({
        ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }),
        host: options.host ?? 'localhost',
        port,
        database: options.database ?? 'zohooauth',
        user: options.user ?? 'postgres',
        ...(options.password === undefined ? {} : { password: options.password }),
        table,
        ...(schema === undefined ? {} : { schema }),
        max: positiveOption('PostgresStore', 'max', options.max, 10),
        connectTimeoutMs: positiveOption('PostgresStore', 'connectTimeoutMs', options.connectTimeoutMs, 5_000),
        queryTimeoutMs: positiveOption('PostgresStore', 'queryTimeoutMs', options.queryTimeoutMs, 15_000),
      }),
      table,
      ...(schema === undefined ? {} : { schema }),
    });
    this.table = table;
    this.schema = schema;
  }
}

function validateSchema(schema: string): string {
  try {
    return validateTableName(schema);
  } catch {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid PostgresStore schema ${JSON.stringify(String(schema).slice(0, 70))}: use letters, digits and underscores, starting with a letter or underscore`,
    );
  }
}
