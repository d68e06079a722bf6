/**
 * The Lua scripts that make every multi-key change of RedisStore atomic: Redis runs a script
 * whole, with nothing interleaved, so concurrent saves from many processes cannot both decide
 * "insert", and a client killed mid-call leaves either all of a change or none of it. Each script
 * decides everything before its first write, so no error can stop it halfway.
 *
 * Scripts run by EVALSHA with a fallback to EVAL (which also caches the script) on NOSCRIPT,
 * without defineCommand, so a client handed in by the user gets no methods added.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { COLUMN_NAMES } from '../../token.js';
import { isCluster } from './cluster.js';

export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return await client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }

  /** Queues the script on a pipeline; call `load` first so EVALSHA finds it. */
  queue(pipeline: ChainableCommander, keys: readonly string[], args: readonly (string | number)[]): void {
    pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
  }

  /** Caches the script on the server; on a cluster, on every master (SCRIPT LOAD goes to one node). */
  async load(client: Redis): Promise<void> {
    const given: unknown = client;
    const masters: Redis[] = isCluster(given) ? given.nodes('master') : [client];
    await Promise.all(masters.map((node) => node.script('LOAD', this.lua)));
  }
}

/**
 * Walks an index (lowest id first) to the first listed token whose column holds the value;
 * returns its id and score. Checking both keeps a script from writing on a stale entry.
 */
const LOWEST_MATCH = `
local function lowest_match(ids_key, token_prefix, index_key, column, value)
  for _, candidate in ipairs(redis.call('ZRANGE', index_key, 0, -1)) do
    if redis.call('HGET', token_prefix .. candidate, column) == value then
      local score = redis.call('ZSCORE', ids_key, candidate)
      if score then return candidate, score end
    end
  end
  return nil, nil
end
`;

/** HMGET arguments for a whole token, in Zoho's column order. */
const ALL_COLUMNS = COLUMN_NAMES.map((column) => `'${column}'`).join(', ');

/**
 * findToken in one round trip. KEYS: index key. ARGV: token key prefix, the rule column's
 * position in Zoho's column order (1-based), value. Returns the token as a row of the ten
 * columns (nil where absent), or nil. The first id is the answer; the others are read only if
 * it does not hold the value.
 */
export const FIND_SCRIPT = new LuaScript(
  'find',
  `
local column = tonumber(ARGV[2])
local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if not first then return false end
local row = redis.call('HMGET', ARGV[1] .. first, ${ALL_COLUMNS})
if row[column] == ARGV[3] then return row end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 1, -1)) do
  row = redis.call('HMGET', ARGV[1] .. id, ${ALL_COLUMNS})
  if row[column] == ARGV[3] then return row end
end
return false
`,
);

/**
 * saveToken. KEYS: ids, indexkeys. ARGV: token key prefix, id or '', score of that id or '',
 * rule column or '', rule index key, rule value, largest numeric id allowed, the new index keys
 * (one per line), then column/value pairs (without id).
 * Locates by id, then by the rule (decided in TypeScript by matchRule), else inserts with the
 * given id or the largest numeric id + 1. Returns {'OK', id}, or {'FULL', largest id} when no
 * numeric id is left (nothing written).
 */
export const SAVE_SCRIPT = new LuaScript(
  'save',
  `${LOWEST_MATCH}
local ids_key, indexkeys_key = KEYS[1], KEYS[2]
local token_prefix, id, id_score = ARGV[1], ARGV[2], ARGV[3]
local rule_column, rule_index, rule_value = ARGV[4], ARGV[5], ARGV[6]
local max_id, new_keys = ARGV[7], ARGV[8]

local target, score
if id ~= '' then
  score = redis.call('ZSCORE', ids_key, id)
  if score then target = id end
end
if not target and rule_column ~= '' then
  target, score = lowest_match(ids_key, token_prefix, rule_index, rule_column, rule_value)
end
local existed = target ~= nil
if not target then
  if id ~= '' then
    target, score = id, id_score
  else
    local top = redis.call('ZREVRANGEBYSCORE', ids_key, max_id, '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    local largest = tonumber(top[2] or '0')
    if largest >= tonumber(max_id) then return {'FULL', top[1]} end
    target = string.format('%d', largest + 1)
    score = target
  end
end

-- Touch only the index entries that change (a refresh changes just the access token's).
local old_keys = redis.call('HGET', indexkeys_key, target) or ''
local old, new = {}, {}
for key in string.gmatch(old_keys, '[^\\n]+') do old[key] = true end
for key in string.gmatch(new_keys, '[^\\n]+') do
  new[key] = true
  if not old[key] then redis.call('ZADD', key, score, target) end
end
for key in pairs(old) do
  if not new[key] then redis.call('ZREM', key, target) end
end
local token_key = token_prefix .. target
redis.call('DEL', token_key)
redis.call('HSET', token_key, 'id', target, unpack(ARGV, 9))
if new_keys ~= old_keys then
  if new_keys ~= '' then
    redis.call('HSET', indexkeys_key, target, new_keys)
  else
    redis.call('HDEL', indexkeys_key, target)
  end
end
if not existed then redis.call('ZADD', ids_key, score, target) end
return {'OK', target}
`,
);

/**
 * Deletes one token whole: its index entries, its line in indexkeys, its id and its hash.
 * Returns 1 if its hash existed. The one rule for deleteToken and deleteTokens.
 */
const DELETE_TOKEN = `
local function delete_token(ids_key, indexkeys_key, token_prefix, id)
  local old_keys = redis.call('HGET', indexkeys_key, id)
  if old_keys then
    for key in string.gmatch(old_keys, '[^\\n]+') do redis.call('ZREM', key, id) end
  end
  redis.call('HDEL', indexkeys_key, id)
  redis.call('ZREM', ids_key, id)
  return redis.call('DEL', token_prefix .. id)
end
`;

/** deleteToken. KEYS: ids, indexkeys. ARGV: token key prefix, id. Returns 1 if it existed. */
export const DELETE_SCRIPT = new LuaScript(
  'delete',
  `${DELETE_TOKEN}
return delete_token(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
`,
);

/**
 * deleteTokens, one batch: deletes the `ARGV[2]` lowest ids, each token whole, and returns how
 * many it deleted. RedisStore calls it until it returns 0, so the server is never blocked for
 * long (one script over 100,000 tokens held it for about a second). An index key emptied by ZREM
 * disappears by itself. KEYS: ids, indexkeys. ARGV: token key prefix, batch size.
 */
export const DELETE_BATCH_SCRIPT = new LuaScript(
  'deleteBatch',
  `${DELETE_TOKEN}
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, id in ipairs(ids) do delete_token(KEYS[1], KEYS[2], ARGV[1], id) end
return #ids
`,
);

/**
 * withLock's acquire: `SET NX PX`, or, when the key already holds this owner, acquired too (with
 * its ttl renewed): a SET retried after its reply was lost finds the lock it took itself, and
 * must not wait for it to expire. KEYS: lock. ARGV: owner, ttl in ms. Returns 1 when held.
 */
export const ACQUIRE_LOCK_SCRIPT = new LuaScript(
  'acquireLock',
  `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** withLock's release: deletes the lock only if this owner still holds it. KEYS: lock. ARGV: owner. */
export const RELEASE_LOCK_SCRIPT = new LuaScript(
  'releaseLock',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
