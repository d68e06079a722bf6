/**
 * One Map per lookup field (user name, access, grant and refresh token) from value to the token
 * holding it, so findToken is one Map lookup that lands on the token (no second lookup by id:
 * at 100,000 rows each is a cache miss). Each Map is built on the first lookup by its field
 * (most callers only ever look up by user name or id), then kept up to date by add and remove,
 * which FileImage calls for every token it puts in or takes out. A value shared by several rows
 * (possible in a hand-edited file) keeps all of them and resolves to the lowest id.
 */
import { compareIds, type LookupField, type StoredToken } from '../../token.js';

export type IndexedField = Exclude<LookupField, 'id'>;
// A single token in the common case; an array only when a value is shared.
type FieldMap = Map<string, StoredToken | StoredToken[]>;

export class TokenIndex {
  private readonly maps = new Map<IndexedField, FieldMap>();

  /** `rows` lists every stored token, for building a field's Map when it is first needed. */
  constructor(private readonly rows: () => Iterable<StoredToken>) {}

  /** The token whose `field` equals `value` (the lowest id if several), or undefined. */
  find(field: IndexedField, value: string): StoredToken | undefined {
    let map = this.maps.get(field);
    if (!map) {
      map = new Map();
      for (const token of this.rows()) addTo(map, token[field], token);
      this.maps.set(field, map);
    }
    const hit = map.get(value);
    if (!Array.isArray(hit)) return hit;
    let best: StoredToken | undefined;
    for (const token of hit) if (best === undefined || compareIds(token.id, best.id) < 0) best = token;
    return best;
  }

  add(token: StoredToken): void {
    for (const [field, map] of this.maps) addTo(map, token[field], token);
  }

  /** Takes out the row with this token's id (the token as it was put in). */
  remove(token: StoredToken): void {
    for (const [field, map] of this.maps) {
      const value = token[field];
      if (value === undefined) continue;
      const hit = map.get(value);
      if (hit === undefined) continue;
      if (!Array.isArray(hit)) {
        if (hit.id === token.id) map.delete(value);
        continue;
      }
      const rest = hit.filter((t) => t.id !== token.id);
      if (rest.length === 0) map.delete(value);
      else map.set(value, rest.length === 1 ? (rest[0] as StoredToken) : rest);
    }
  }

  clear(): void {
    this.maps.clear();
  }
}

function addTo(map: FieldMap, value: string | undefined, token: StoredToken): void {
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
