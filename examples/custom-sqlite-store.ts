/**
 * The seed article's CustomStoreSQLite, done right: bound parameters, one connection, the shared
 * matching and id rules, update-else-insert in one transaction, and close() by the CLOSED contract
 * (ClosedGuard). About 70 lines; the conformance kit proves it keeps the contract. It imports the
 * package by name, as an app does (in this repository, tsconfig paths and a vitest alias map the
 * name to src/).
 */
import Database from 'better-sqlite3';
import {
  ClosedGuard,
  compareIds,
  locateForSave,
  lookupRuleOf,
  nextId,
  normalizeTokenForSave,
  type OAuthToken,
  rowToToken,
  type StoredToken,
  type TokenStore,
  tokenToRow,
  tokenToStore,
  validateId,
} from 'zoho-token-store';

const COLUMNS = 'id, user_name, client_id, client_secret, refresh_token, access_token, grant_token, expiry_time, redirect_url, api_domain';
const BY: Record<string, string> = {
  id: 'id',
  userName: 'user_name',
  accessToken: 'access_token',
  grantToken: 'grant_token',
  refreshToken: 'refresh_token',
};

export class CustomStoreSQLite implements TokenStore {
  private readonly db: Database.Database;
  // After close() every call fails with a TokenStoreError of reason 'CLOSED', as TokenStore requires.
  private readonly guard = new ClosedGuard('CustomStoreSQLite');

  constructor(path = 'zohooauth.db') {
    this.db = new Database(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS oauthtoken (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255),
      client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255),
      expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))`);
  }

  private find(field: string, value: string): StoredToken | null {
    this.guard.check();
    // Column names come from a fixed map, values are bound: no injection.
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM oauthtoken WHERE ${BY[field]} = ?`).raw(true).all(value) as string[][];
    const tokens = rows.map((row) => rowToToken(row, 'oauthtoken')).sort((a, b) => compareIds(a.id, b.id));
    return tokens[0] ?? null;
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    const rule = lookupRuleOf(partial);
    return rule ? this.find(rule.field, rule.value) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    return this.find('id', validateId(id));
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input);
    return this.db
      .transaction(() => {
        const existing = locateForSave(token, (field, value) => this.find(field, value));
        const ids = this.db.prepare('SELECT id FROM oauthtoken').pluck().all() as string[];
        const stored = tokenToStore(token, existing?.id ?? token.id ?? nextId(ids));
        this.db.prepare('DELETE FROM oauthtoken WHERE id = ?').run(stored.id);
        this.db.prepare(`INSERT INTO oauthtoken (${COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)`).run(...tokenToRow(stored));
        return stored;
      })
      .immediate();
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    this.db.prepare('DELETE FROM oauthtoken WHERE id = ?').run(validateId(id));
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM oauthtoken`).raw(true).all() as string[][];
    return rows.map((row) => rowToToken(row, 'oauthtoken')).sort((a, b) => compareIds(a.id, b.id));
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    this.db.prepare('DELETE FROM oauthtoken').run();
  }

  async close(): Promise<void> {
    if (this.guard.close()) this.db.close(); // a second close() does nothing
  }
}
