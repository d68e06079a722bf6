/**
 * One Map per lookup field (user name, access, grant and refresh token) from value to the token
 * holding it, so findToken is one Map lookup that lands on the token (no second lookup by id:
 * at 100,000 rows each is a cache miss). Each Map is built on the first lookup by its field
 * (most callers only ever look up by user name or id), then kept up to date by add and remove,
 * which FileImage calls for every token it puts in or takes out. A value shared by several rows
 * (possible in a hand-edited file) keeps all of them and resolves to the lowest id (value-map.ts).
 */
import type { LookupField, StoredToken } from '../../token.js';
import { addTo, findIn, removeFrom, type ValueMap } from '../value-map.js';

export type IndexedField = Exclude<LookupField, 'id'>;

export class TokenIndex {
  private readonly maps = new Map<IndexedField, ValueMap>();

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
    return findIn(map, value);
  }

  add(token: StoredToken): void {
    for (const [field, map] of this.maps) addTo(map, token[field], token);
  }

  /** Takes out the row with this token's id (the token as it was put in). */
  remove(token: StoredToken): void {
    for (const [field, map] of this.maps) removeFrom(map, token[field], token);
  }

  clear(): void {
    this.maps.clear();
  }
}
