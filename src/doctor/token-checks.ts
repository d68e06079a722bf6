/**
 * Checks of each stored token, and across tokens: credentials, host allow-list (the same
 * ZohoHosts.locate rule the manager uses), spent grants, long-expired tokens, duplicates.
 */
import { encryptedFieldsOf } from '../crypto/cipher.js';
import type { StoredToken } from '../token.js';
import { isClientCredentialsToken } from '../zoho/client-credentials-grant.js';
import type { ZohoHosts } from '../zoho/hosts.js';
import type { Finding } from './findings.js';

/** A token more than this far past its expiry, with a refresh token, was never refreshed. */
export const LONG_EXPIRED_MS = 24 * 60 * 60 * 1000;

export interface TokenCheckContext {
  hosts: ZohoHosts;
  now: number;
  /** Whether the store was opened with its keys (?encrypt=1). */
  keysLoaded: boolean;
  /** The command that logs in again (the CLI's own name). */
  login: string;
}

export function checkToken(token: StoredToken, ctx: TokenCheckContext): Finding[] {
  const id = token.id;
  const out: Finding[] = [];
  const encrypted = encryptedFieldsOf(token);
  if (encrypted.length > 0 && !ctx.keysLoaded) {
    out.push({
      check: 'encryption',
      level: 'error',
      tokenId: id,
      message: `token ${id} holds encrypted values (${encrypted.join(', ')}) but no keys were loaded`,
      fix: 'add ?encrypt=1 to the store URL and set ZTOKEN_KEYS (or --key-file PATH)',
    });
    return out; // the other checks would read ciphertext
  }
  if (!token.clientId || !token.clientSecret) {
    out.push({
      check: 'credentials',
      level: 'error',
      tokenId: id,
      message: `token ${id} has no ${token.clientId ? 'client secret' : 'client id'}: it can never be refreshed`,
      fix: `${ctx.login} --client-id ID --client-secret SECRET`,
    });
  }
  const selfClient = isClientCredentialsToken(token);
  if (!token.refreshToken && !selfClient) {
    out.push(
      token.grantToken
        ? {
            check: 'spent-grant',
            level: 'error',
            tokenId: id,
            message: `token ${id} holds only a grant token: a grant lasts 3 minutes and works once, so it is spent`,
            fix: ctx.login,
          }
        : {
            check: 'credentials',
            level: 'error',
            tokenId: id,
            message: `token ${id} has neither a refresh token nor a self-client grant`,
            fix: ctx.login,
          },
    );
  }
  try {
    ctx.hosts.locate(token.apiDomain);
  } catch (error) {
    out.push({
      check: 'host',
      level: 'error',
      tokenId: id,
      message: `token ${id}: ${(error as Error).message}`,
      fix: `ztoken delete ${id} && ${ctx.login}`,
    });
  }
  const expiry = token.expiryTime ?? 0;
  const late = ctx.now - expiry;
  if (token.refreshToken && expiry > 0 && late > LONG_EXPIRED_MS) {
    out.push({
      check: 'expired',
      level: 'warning',
      tokenId: id,
      message: `token ${id} expired ${Math.floor(late / 3_600_000)} h ago and was never refreshed since`,
      fix: `ztoken refresh ${id}`,
    });
  }
  if (out.length === 0) out.push({ check: 'token', level: 'ok', tokenId: id, message: `token ${id} looks right` });
  return out;
}

/**
 * The same user under several client ids: `--user` lookups pick one of them unpredictably.
 * Zoho user names are e-mail addresses, so they are compared without case ("Ann@x" is "ann@x").
 */
export function checkDuplicates(tokens: readonly StoredToken[]): Finding[] {
  const byUser = new Map<string, StoredToken[]>();
  for (const token of tokens) {
    if (!token.userName) continue;
    const user = token.userName.trim().toLowerCase();
    const list = byUser.get(user) ?? [];
    list.push(token);
    byUser.set(user, list);
  }
  const out: Finding[] = [];
  for (const [user, list] of byUser) {
    const clients = new Set(list.map((t) => t.clientId));
    if (clients.size < 2) continue;
    const keep = list[0]?.id;
    out.push({
      check: 'duplicates',
      level: 'warning',
      message: `user ${user} has tokens under ${clients.size} client ids (ids ${list.map((t) => t.id).join(', ')})`,
      fix: list
        .filter((t) => t.id !== keep)
        .map((t) => `ztoken delete ${t.id}`)
        .join(' && '),
    });
  }
  return out;
}
