/**
 * How the PostgreSQL driver sends one statement: data statements as named prepared statements
 * (parsed once per connection), every value bound, with pg's client-side read timeout. A statement
 * that times out fails with QueryTimeoutError; pg leaves it active on its client, and releasing
 * that client with an error (the pool does so) or ending it destroys the socket.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { QueryTimeoutError, type SqlRow } from './sql-driver.js';

type Runner = Pick<pg.ClientBase, 'query'> | Pick<pg.Pool, 'query'>;

const statementNames = new Map<string, string | null>();

/** A named prepared statement for data statements, plain otherwise. */
function statement(text: string, values: readonly unknown[], timeoutMs: number | undefined): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = /^(SELECT|INSERT|UPDATE|DELETE)\b/.test(text) ? `zt_${createHash('sha1').update(text).digest('hex').slice(0, 24)}` : null;
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  // query_timeout per statement is read by pg's Client.query (not in @types/pg's QueryConfig).
  const config = { text, values: values as unknown[], ...(timeoutMs === undefined ? {} : { query_timeout: timeoutMs }) };
  return name === null ? config : { name, ...config };
}

export async function runPostgres(
  runner: Runner,
  text: string,
  values: readonly unknown[],
  timeoutMs: number | undefined,
): Promise<SqlRow[]> {
  try {
    return (await runner.query(statement(text, values, timeoutMs))).rows as SqlRow[];
  } catch (error) {
    if (timeoutMs !== undefined && (error as Error | null)?.message === 'Query read timeout') throw new QueryTimeoutError(timeoutMs);
    throw error;
  }
}
