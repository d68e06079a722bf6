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
import { type TableLayoutName, tableLayoutOption } from './sql/table-layouts.js';
import { PostgresDriver } from './sql/postgres-driver.js';
import { COMMON_URL_PARAMS, type StoreUrl } from './url-params.js';
import { openNow } from './open-now.js';

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
  /** Create the table when it is missing (default true); false: a missing table fails with NOT_FOUND. */
  create?: boolean;
  /**
   * The layout of a new table: 'zoho-v6' (default, today's SDKs), 'zoho-v2', 'zcrmsdk' or
   * 'python' (docs/sql-layouts.md). An existing table's layout is read from its columns; when
   * given, it must agree.
   */
  layout?: TableLayoutName;
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
      create: options.create,
      layout: tableLayoutOption('PostgresStore', options.layout),
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

/** The store's own URL parameters; the rest go to pg in the connection string. */
const STORE_PARAMS = ['table', 'schema', 'layout', 'max', 'connectTimeoutMs', 'queryTimeoutMs'] as const;
/** The connection-string parameters pg (pg-connection-string and its Client) understands. */
const PG_PARAMS = [
  'host',
  'port',
  'user',
  'password',
  'db',
  'encoding',
  'client_encoding',
  'ssl',
  'sslmode',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'sslpassword',
  'sslnegotiation',
  'uselibpqcompat',
  'application_name',
  'fallback_application_name',
  'options',
  'replication',
  'connect_timeout',
  'keepalives',
  'keepalives_idle',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
];

/**
 * The store a `postgres://` URL names (see url.ts): `?table=`, `?schema=`, `?layout=`, `?max=`,
 * `?connectTimeoutMs=`, `?queryTimeoutMs=` are the options; pg's own parameters (sslmode, ...)
 * stay in the connection string. With create false it connects now and fails if the table is missing.
 */
export async function postgresStoreFromUrl(url: StoreUrl, create: boolean): Promise<PostgresStore> {
  const parsed = url.parse();
  const params = url.params([...STORE_PARAMS, ...PG_PARAMS]);
  for (const name of [...STORE_PARAMS, ...COMMON_URL_PARAMS]) parsed.searchParams.delete(name);
  const store = new PostgresStore({
    connectionString: parsed.toString(),
    table: params.string('table'),
    schema: params.string('schema'),
    max: params.number('max'),
    connectTimeoutMs: params.number('connectTimeoutMs'),
    queryTimeoutMs: params.number('queryTimeoutMs'),
    create,
    layout: params.string('layout') as TableLayoutName | undefined,
  });
  return create ? store : openNow(store, () => store.open());
}
