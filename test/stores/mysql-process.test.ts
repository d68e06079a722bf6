import { afterAll, describe } from 'vitest';
import { DBStore } from '../../src/stores/mysql.js';
import { MYSQL_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropMySqlTable, mysqlTarget } from './helpers/sql-admin.js';
import { crossProcessTests } from './helpers/sql-processes.js';

const available = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const target = mysqlTarget();
const tables: string[] = [];

describe.skipIf(!available)('DBStore shared by processes', () => {
  afterAll(async () => {
    for (const table of tables) await dropMySqlTable(table);
  });
  crossProcessTests({
    engine: 'mysql',
    database: target.database,
    table: () => {
      const table = uniqueName('zt');
      tables.push(table);
      return table;
    },
    open: (table) => new DBStore({ ...target, table }),
  });
});
