/**
 * The repair of a token file whose rows repeat an id (typescript-sdk 6.0 and 7.0 give every token
 * from the 11th on the id 10): the first row with an id keeps it, every later row with the same
 * id gets a new one, the largest numeric id + 1 in file order (idsAfterLargest, as every new id).
 * Nothing else in any row changes. FileStore.repairDuplicateIds writes the result atomically.
 */
import type { StoredToken } from '../../token.js';
import { idsAfterLargest, type ParsedTokens } from './token-file.js';

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
  const seen = new Set<string>();
  const repeated: number[] = [];
  parsed.tokens.forEach((token, i) => {
    if (seen.has(token.id)) repeated.push(i);
    else seen.add(token.id);
  });
  const tokens = [...parsed.tokens];
  const repairs = idsAfterLargest(parsed.tokens, repeated).map((newId, n): IdRepair => {
    const i = repeated[n]!;
    const token = parsed.tokens[i]!;
    tokens[i] = { ...token, id: newId };
    return {
      line: parsed.lines[i] ?? 0,
      oldId: token.id,
      newId,
      ...(token.userName !== undefined ? { userName: token.userName } : {}),
    };
  });
  return { tokens, repairs };
}
