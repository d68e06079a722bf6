/**
 * One Map per lookup field (user name, access, grant and refresh token) from value to id, so
 * findToken is a Map lookup. Each Map is built on the first lookup by its field (most callers
 * only ever look up by user name or id), then kept up to date. A value shared by several rows
 * (possible in a hand-edited file) keeps all their ids and resolves to the lowest.
 */
import { compareIds, type LookupField, type StoredToken } from '../../token.js';

export type IndexedField = Exclude<LookupField, 'id'>;
// A single id in the common case; a Set only when a value is shared.
type FieldMap = Map<string, string | Set<string>>;

export class TokenIndex {
  private readonly maps = new Map<IndexedField, FieldMap>();

  /** `rows` lists every stored token, for building a field's Map when it is first needed. */
  constructor(private readonly rows: () => Iterable<StoredToken>) {}

  /** The id of the row whose `field` equals `value` (the lowest if several), or undefined. */
  find(field: IndexedField, value: string): string | undefined {
    let map = this.maps.get(field);
    if (!map) {
      map = new Map();
      for (const token of this.rows()) addTo(map, token[field], token.id);
      this.maps.set(field, map);
    }
    const hit = map.get(value);
    if (typeof hit !== 'object') return hit;
    let best: string | undefined;
    for (const id of hit) if (best === undefined || compareIds(id, best) < 0) best = id;
    return best;
  }

  add(token: StoredToken): void {
    for (const [field, map] of this.maps) addTo(map, token[field], token.id);
  }

  remove(token: StoredToken): void {
    for (const [field, map] of this.maps) {
      const value = token[field];
      if (value === undefined) continue;
      const hit = map.get(value);
      if (hit === token.id) map.delete(value);
      else if (typeof hit === 'object') {
        hit.delete(token.id);
        if (hit.size === 1) map.set(value, hit.values().next().value!);
      }
    }
  }

  clear(): void {
    this.maps.clear();
  }
}

function addTo(map: FieldMap, value: string | undefined, id: string): void {
  if (value === undefined) return;
  const hit = map.get(value);
  if (hit === undefined) map.set(value, id);
  else if (typeof hit === 'string') {
    if (hit !== id) map.set(value, new Set([hit, id]));
  } else hit.add(id);
}
