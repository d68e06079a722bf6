/**
 * A Map from one lookup field's value to the token holding it, shared by MemoryStore and
 * FileStore's index: a single token in the common case, an array only when several tokens share
 * the value (possible in a hand-edited file, or in a store written by another program). A shared
 * value resolves to the lowest id, as every store's lookups do.
 */
import { compareIds, type StoredToken } from '../token.js';

export type ValueMap = Map<string, StoredToken | StoredToken[]>;

/** The token holding `value` (the lowest id if several), or undefined. */
export function findIn(map: ValueMap, value: string): StoredToken | undefined {
  const hit = map.get(value);
  if (!Array.isArray(hit)) return hit;
  let best: StoredToken | undefined;
  for (const token of hit) if (best === undefined || compareIds(token.id, best.id) < 0) best = token;
  return best;
}

/** Adds `token` under `value`, replacing a token with the same id. */
export function addTo(map: ValueMap, value: string | undefined, token: StoredToken): void {
  if (value === undefined) return;
  const hit = map.get(value);
  if (hit === undefined) map.set(value, token);
  else if (Array.isArray(hit)) {
    const at = hit.findIndex((t) => t.id === token.id);
    if (at < 0) hit.push(token);
    else hit[at] = token;
  } else if (hit.id === token.id) map.set(value, token);
  else map.set(value, [hit, token]);
}

/** Takes the token with `token`'s id out from under `value`. */
export function removeFrom(map: ValueMap, value: string | undefined, token: StoredToken): void {
  if (value === undefined) return;
  const hit = map.get(value);
  if (hit === undefined) return;
  if (!Array.isArray(hit)) {
    if (hit.id === token.id) map.delete(value);
    return;
  }
  const rest = hit.filter((t) => t.id !== token.id);
  if (rest.length === 0) map.delete(value);
  else map.set(value, rest.length === 1 ? (rest[0] as StoredToken) : rest);
}
