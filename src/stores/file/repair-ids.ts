/**
 * The repair of a token file whose rows repeat an id (typescript-sdk 6.0 and 7.0 give every token
 * from the 11th on the id 10): the first row with an id keeps it, every later row with the same
 * id gets a new one, the largest numeric id + 1 in file order (nextIdAfter, as every new id).
 * Nothing else in any row changes. FileStore.repairDuplicateIds writes the result atomically.
 */
import { isNumericId, nextIdAfter, type StoredToken } from '../../token.js';
import type { ParsedTokens } from './token-file.js';

/** One row that got a new id. */
export interface IdRepair {
  /** The line the row starts on in the file as it was. */
  line: number;
  oldId: string;
  newId: string;
  userName?: string;
}

export interface IdRepairPlan {
  /** Every token in file order, repeated ids replaced. */
  tokens: StoredToken[];
  repairs: IdRepair[];
}

export function planIdRepair(parsed: ParsedTokens): IdRepairPlan {
  let max = 0;
  for (const token of parsed.tokens) if (isNumericId(token.id)) max = Math.max(max, Number(token.id));
  const seen = new Set<string>();
  const repairs: IdRepair[] = [];
  const tokens = parsed.tokens.map((token, i) => {
    if (!seen.has(token.id)) {
      seen.add(token.id);
      return token;
    }
    const newId = nextIdAfter(max);
    max = Number(newId);
    seen.add(newId);
    repairs.push({
      line: parsed.lines[i] ?? 0,
      oldId: token.id,
      newId,
      ...(token.userName !== undefined ? { userName: token.userName } : {}),
    });
    return { ...token, id: newId };
  });
  return { tokens, repairs };
}
