import { afterAll, describe } from 'vitest';
import { PostgresStore } from '../../src/stores/postgres.js';
import { POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropPostgresTable, postgresTarget } from './helpers/sql-admin.js';
import { crossProcessTests } from './helpers/sql-processes.js';

const available = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');
const target = postgresTarget();
const tables: string[] = [];

describe.skipIf(!available)('PostgresStore shared by processes', () => {
  afterAll(async () => {
    for (const table of tables) await dropPostgresTable(table);
  });
  crossProcessTests({
    engine: 'postgres',
    database: target.database,
    table: () => {
      const table = uniqueName('zt');
      tables.push(table);
      return table;
    },
    open: (table) => new PostgresStore({ ...target, table }),
  });
});
