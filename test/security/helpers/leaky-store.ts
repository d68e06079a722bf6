/**
 * A custom TokenStore such as users write over a raw database driver: when told to fail, its
 * errors echo values the way drivers do (MySQL's "Duplicate entry '...'", the SQL text with the
 * values inlined). Code of ours that reports such an error (TokenManager's log, the zoho-sdk
 * adapter) must scrub the secrets it knows and anything shaped like a Zoho token.
 */
import type { TokenStore } from '../../../src/store.js';
import type { OAuthToken, StoredToken } from '../../../src/token.js';

function driverError(values: (string | undefined)[]): Error {
  const shown = values.filter(Boolean).join("', '");
  const message = `ER_DUP_ENTRY: Duplicate entry '${shown}' for key 'uq_refresh'`;
  return Object.assign(new Error(message), {
    code: 'ER_DUP_ENTRY',
    errno: 1062,
    sqlMessage: message,
    sql: `INSERT INTO oauthtoken VALUES ('${shown}')`,
  });
}

const echoOf = (token: OAuthToken | null | undefined) => [token?.clientSecret, token?.refreshToken, token?.accessToken, token?.grantToken];

export class LeakyStore implements TokenStore {
  /** saveToken fails, echoing the token it was given. */
  failSaves = false;
  /** Every method fails, echoing the token it was given or the refresh and access tokens stored. */
  failAll = false;
  /** withLock fails (before running its callback), echoing the tokens stored. */
  failLocks = false;
  readonly inner: TokenStore;

  constructor(inner: TokenStore) {
    this.inner = inner;
  }

  private async storedValues(): Promise<(string | undefined)[]> {
    return (await this.inner.getTokens()).flatMap((t: StoredToken) => [t.refreshToken, t.accessToken]);
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    if (this.failAll) throw driverError(echoOf(partial));
    return this.inner.findToken(partial);
  }

  async saveToken(token: OAuthToken): Promise<StoredToken> {
    if (this.failAll || this.failSaves) throw driverError(echoOf(token));
    return this.inner.saveToken(token);
  }

  async deleteToken(id: string): Promise<void> {
    if (this.failAll) throw driverError(await this.storedValues());
    return this.inner.deleteToken(id);
  }

  async getTokens(): Promise<StoredToken[]> {
    if (this.failAll) throw driverError(await this.storedValues());
    return this.inner.getTokens();
  }

  async deleteTokens(): Promise<void> {
    if (this.failAll) throw driverError(await this.storedValues());
    return this.inner.deleteTokens();
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    if (this.failAll) throw driverError(await this.storedValues());
    return this.inner.findTokenById(id);
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    if (this.failLocks) throw driverError(await this.storedValues());
    if (!this.inner.withLock) return fn();
    return this.inner.withLock(key, ttlMs, fn);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
