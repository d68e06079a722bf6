// Test helpers for RedisStore: an admin client, the keys under a prefix (read, dumped, deleted)
// and a consistency check of the layout written independently of the store's own code.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { COLUMN_NAMES } from '../../../src/token.js';
import { REDIS_URL } from '../../services.js';

export function adminClient(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
}

export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return [...new Set(out)].sort();
}

/** Deletes every key under the prefix (what a test created) and nothing else. */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
}

/** Every key under the prefix with its content, as JSON text (the conformance kit's `raw`). */
export async function dumpPrefix(client: Redis, prefix: string): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const key of await keysUnder(client, prefix)) {
    const type = await client.type(key);
    if (type === 'hash') out[key] = await client.hgetall(key);
    else if (type === 'zset') out[key] = await client.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'string') out[key] = await client.get(key);
    else out[key] = type;
  }
  return JSON.stringify(out);
}

const INDEXED_COLUMNS = ['user_name', 'access_token', 'grant_token', 'refresh_token'];
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const score = (id: string) => (/^(0|[1-9]\d{0,9})$/.test(id) ? Number(id) : 1e10);

/**
 * Checks the layout under a prefix and returns what is wrong (empty when consistent):
 * every token hash is listed in `ids` and indexed under each of its lookup values; every index
 * entry points to an existing hash whose column has that value; `indexkeys` names exactly the
 * index keys of each token; hash fields are Zoho's column names; no other keys but locks.
 */
export async function layoutProblems(
  client: Redis,
  prefix: string,
): Promise<{ problems: string[]; tokens: Map<string, Record<string, string>> }> {
  const problems: string[] = [];
  const keys = await keysUnder(client, prefix);
  const tokens = new Map<string, Record<string, string>>();
  const indexes = new Map<string, Map<string, number>>();
  // One pipeline reads everything: the check stays cheap enough to run after every kill.
  const reads = client.pipeline();
  for (const key of keys) {
    const rest = key.slice(prefix.length);
    if (rest.startsWith('token:')) reads.hgetall(key);
    else if (rest.startsWith('idx:')) reads.zrange(key, '0', '-1', 'WITHSCORES');
    else reads.type(key);
  }
  reads.zrange(`${prefix}ids`, '0', '-1', 'WITHSCORES');
  reads.hgetall(`${prefix}indexkeys`);
  const replies = ((await reads.exec()) ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
  keys.forEach((key, i) => {
    const rest = key.slice(prefix.length);
    const reply = replies[i];
    if (rest.startsWith('token:')) {
      const hash = reply as Record<string, string>;
      const id = rest.slice('token:'.length);
      tokens.set(id, hash);
      if (hash.id !== id) problems.push(`${key}: id field ${JSON.stringify(hash.id)}`);
      for (const field of Object.keys(hash))
        if (!(COLUMN_NAMES as readonly string[]).includes(field)) problems.push(`${key}: field ${field}`);
      if (!hash.access_token && !hash.refresh_token && !hash.grant_token)
        problems.push(`${key}: no access, refresh or grant token (half written?)`);
    } else if (rest.startsWith('idx:')) {
      const flat = reply as string[];
      const members = new Map<string, number>();
      for (let j = 0; j < flat.length; j += 2) members.set(flat[j] as string, Number(flat[j + 1]));
      indexes.set(key, members);
    } else if (rest !== 'ids' && rest !== 'indexkeys' && !rest.startsWith('lock:')) {
      problems.push(`unexpected key ${key}`);
    }
  });
  const ids = new Map<string, number>();
  const flatIds = replies[keys.length] as string[];
  for (let i = 0; i < flatIds.length; i += 2) ids.set(flatIds[i] as string, Number(flatIds[i + 1]));
  const registry = replies[keys.length + 1] as Record<string, string>;

  for (const [id, hash] of tokens) {
    if (ids.get(id) !== score(id)) problems.push(`token ${id}: missing from ids or wrong score (${ids.get(id)})`);
    const expected: string[] = [];
    for (const column of INDEXED_COLUMNS) {
      const value = hash[column];
      if (value === undefined) continue;
      const indexKey = `${prefix}idx:${column}:${sha256(value)}`;
      expected.push(indexKey);
      if (indexes.get(indexKey)?.get(id) !== score(id)) problems.push(`token ${id}: not indexed by ${column}`);
    }
    const listed = (registry[id] ?? '').split('\n').filter(Boolean).sort();
    if (JSON.stringify(listed) !== JSON.stringify(expected.sort()))
      problems.push(`token ${id}: indexkeys lists ${listed.length} keys, expected ${expected.length}`);
  }
  for (const id of ids.keys()) if (!tokens.has(id)) problems.push(`ids lists ${id} with no hash`);
  for (const id of Object.keys(registry)) if (!tokens.has(id)) problems.push(`indexkeys lists ${id} with no hash`);
  for (const [indexKey, members] of indexes) {
    const [, column, digest] = indexKey.slice(prefix.length).split(':');
    if (members.size === 0) problems.push(`${indexKey}: empty`);
    for (const id of members.keys()) {
      const value = tokens.get(id)?.[column ?? ''];
      if (value === undefined || sha256(value) !== digest) problems.push(`${indexKey}: dangling entry ${id}`);
    }
  }
  return { problems, tokens };
}
