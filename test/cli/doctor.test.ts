/**
 * `ztoken doctor` end to end (main() in this process, real SQLite and file stores): a clean
 * store passes, and each planted problem is found with its fix; --json shape; no secret printed.
 */
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/program.js';
import { generateKey } from '../../src/crypto/keys.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { hashRefreshToken } from '../../src/reauth-marks.js';
import { supportsReauthMarks } from '../../src/store.js';
import type { Finding } from '../../src/doctor/findings.js';
import { openStore } from '../../src/stores/url.js';
import type { OAuthToken } from '../../src/token.js';
import { encodeClientCredentialsGrant } from '../../src/zoho/client-credentials-grant.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { tempDir } from './helpers.js';

const temp = tempDir('ztoken-doctor');
const secrets: string[] = [];
let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator?.close();
  temp.remove();
});

function token(extra: Partial<OAuthToken> = {}): OAuthToken {
  const tag = randomBytes(4).toString('hex');
  const t: OAuthToken = {
    userName: `user-${tag}@example.com`,
    clientId: `1000.DOCTOR${tag.toUpperCase()}`,
    clientSecret: `doctor-secret-${randomBytes(10).toString('hex')}`,
    refreshToken: `1000.doctor-refresh-${randomBytes(10).toString('hex')}`,
    accessToken: `1000.doctor-access-${randomBytes(10).toString('hex')}`,
    expiryTime: Date.now() + 3_600_000,
    apiDomain: 'https://www.zohoapis.com',
    ...extra,
  };
  secrets.push(...[t.clientSecret, t.refreshToken, t.accessToken, t.grantToken].filter((s): s is string => !!s));
  return t;
}

async function seed(url: string, tokens: OAuthToken[], keys?: { id: string; key: Buffer }[]): Promise<void> {
  const store = await openStore(url, { keys, env: {} });
  for (const t of tokens) await store.saveToken(t);
  await store.close();
}

async function doctor(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'ztoken', 'doctor', ...args], {
    env: { NO_COLOR: '1', ZOHO_ACCOUNTS_URL: emulator.url, ...env },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  for (const s of secrets) expect(stdout + stderr).not.toContain(s);
  return { code, stdout, stderr };
}

async function findings(
  url: string,
  env: Record<string, string> = {},
  extra: string[] = [],
): Promise<{ code: number; ok: boolean; findings: Finding[] }> {
  const r = await doctor(['--json', '--store', url, ...extra], env);
  const parsed = JSON.parse(r.stdout) as { ok: boolean; findings: Finding[] };
  return { code: r.code, ...parsed };
}

const errors = (list: Finding[]) => list.filter((f) => f.level === 'error');

describe('ztoken doctor', () => {
  test('passes on a clean SQLite store, and says which layout it detected', async () => {
    const url = `sqlite:${join(temp.dir, 'clean.db')}`;
    await seed(url, [token(), token()]);
    const text = await doctor(['--store', url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('No errors found.');
    const r = await findings(url);
    expect(r.code).toBe(0);
    expect(r.ok).toBe(true);
    expect(errors(r.findings)).toEqual([]);
    expect(r.findings.find((f) => f.check === 'layout')?.message).toMatch(/^table layout /);
    for (const f of r.findings) {
      expect(['error', 'warning', 'ok']).toContain(f.level);
      expect(typeof f.check).toBe('string');
      expect(typeof f.message).toBe('string');
    }
  });

  test('an unreachable store is an error finding, exit 1', async () => {
    const r = await findings(`sqlite:${join(temp.dir, 'missing.db')}`);
    expect(r.code).toBe(1);
    expect(r.ok).toBe(false);
    expect(errors(r.findings).map((f) => f.check)).toEqual(['store']);
  });

  test('a file store readable by others: chmod 600 is the fix', async () => {
    const path = join(temp.dir, 'tokens.txt');
    await seed(`file:${path}`, [token()]);
    chmodSync(path, 0o644);
    const r = await findings(`file:${path}`);
    expect(r.code).toBe(1);
    const bad = r.findings.find((f) => f.check === 'file-mode');
    expect(bad).toMatchObject({ level: 'error', fix: `chmod 600 ${path}` });
    expect(r.findings.find((f) => f.check === 'layout')?.message).toMatch(/^file layout /);
    chmodSync(path, 0o600);
    expect((await findings(`file:${path}`)).code).toBe(0);
  });

  test('an encrypted store read without its keys', async () => {
    const key = generateKey();
    const url = `sqlite:${join(temp.dir, 'encrypted.db')}`;
    await seed(`${url}?encrypt=1`, [token()], [{ id: key.id, key: key.key }]);
    const r = await findings(url);
    expect(r.code).toBe(1);
    expect(errors(r.findings).map((f) => f.check)).toEqual(['encryption']);
    const withKeys = await findings(`${url}?encrypt=1`, { ZTOKEN_KEYS: key.line });
    expect(withKeys.code).toBe(0);
    const wrong = await findings(`${url}?encrypt=1`, { ZTOKEN_KEYS: generateKey(key.id).line });
    expect(wrong.code).toBe(1);
    expect(errors(wrong.findings).length).toBeGreaterThan(0);
  });

  test('a foreign apiDomain, a spent grant, a long-expired token, duplicate users', async () => {
    const url = `sqlite:${join(temp.dir, 'planted.db')}`;
    const dup = token();
    await seed(url, [
      token({ apiDomain: 'https://evil.example.com' }),
      token({ refreshToken: undefined, grantToken: `1000.grant-${randomBytes(8).toString('hex')}` }),
      token({ expiryTime: Date.now() - 3 * 24 * 3_600_000 }),
      dup,
      // The store matches user names exactly; Zoho's are e-mail addresses, case-insensitive.
      token({ userName: dup.userName?.toUpperCase() }),
    ]);
    const r = await findings(url);
    expect(r.code).toBe(1);
    const by = (check: string) => r.findings.filter((f) => f.check === check);
    expect(by('host')).toHaveLength(1);
    expect(by('host')[0]?.level).toBe('error');
    expect(by('host')[0]?.message).toContain('evil.example.com');
    expect(by('spent-grant')).toHaveLength(1);
    expect(by('spent-grant')[0]?.fix).toBe('ztoken login');
    expect(by('expired')).toHaveLength(1);
    expect(by('expired')[0]).toMatchObject({ level: 'warning' });
    expect(by('expired')[0]?.fix).toMatch(/^ztoken refresh \S+$/);
    expect(by('duplicates')).toHaveLength(1);
    expect(by('duplicates')[0]?.message).toContain(dup.userName?.toLowerCase());
  });

  test('clock skew against the Date header of the accounts server (the emulator clock moved)', async () => {
    const url = `sqlite:${join(temp.dir, 'clock.db')}`;
    await seed(url, [token()]);
    expect((await findings(url)).findings.find((f) => f.check === 'clock')?.level).toBe('ok');
    emulator.clock.advance(3_600_000);
    try {
      const r = await findings(url);
      expect(r.code).toBe(1);
      const clock = r.findings.find((f) => f.check === 'clock');
      expect(clock?.level).toBe('error');
      expect(clock?.message).toMatch(/the local clock is 3\d{3} s behind/);
      emulator.clock.advance(-3_600_000 + 120_000);
      const warned = await findings(url);
      expect(warned.code).toBe(0);
      expect(warned.findings.find((f) => f.check === 'clock')?.level).toBe('warning');
    } finally {
      emulator.clock.set(Date.now());
    }
  });

  test('--online: one call per token with its access token; expired ones are skipped, never refreshed', async () => {
    const code = emulator.issueGrantToken();
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      client_id: DEFAULT_CLIENT.clientId,
      client_secret: DEFAULT_CLIENT.clientSecret,
      redirect_uri: DEFAULT_CLIENT.redirectUris?.[0] ?? '',
    });
    const res = await fetch(`${emulator.url}/oauth/v2/token`, { method: 'POST', body });
    const got = (await res.json()) as { access_token: string; refresh_token: string };
    expect(got.access_token).toBeTruthy();
    secrets.push(got.access_token, got.refresh_token, DEFAULT_CLIENT.clientSecret);
    const base = { clientId: DEFAULT_CLIENT.clientId, clientSecret: DEFAULT_CLIENT.clientSecret, apiDomain: emulator.apiDomain };
    const url = `sqlite:${join(temp.dir, 'online.db')}`;
    await seed(url, [
      token({ ...base, accessToken: got.access_token, refreshToken: got.refresh_token }),
      token({ ...base, expiryTime: Date.now() - 1000 }),
    ]);
    const r = await findings(url, {}, ['--online']);
    const online = r.findings.filter((f) => f.check === 'online');
    expect(online.map((f) => f.level)).toEqual(['ok', 'warning']);
    expect(online[1]?.message).toContain('expired');
    expect(r.code).toBe(0);
    emulator.invalidateAccessToken(got.access_token);
    const refused = await findings(url, {}, ['--online']);
    expect(refused.code).toBe(1);
    expect(refused.findings.find((f) => f.check === 'online')?.level).toBe('error');
  });

  test('a self-client (client credentials) token needs no refresh token; a token with neither fails', async () => {
    const url = `sqlite:${join(temp.dir, 'self-client.db')}`;
    const grantToken = encodeClientCredentialsGrant({ soid: 'ZohoCRM.10234567', scopes: ['ZohoCRM.modules.ALL'] });
    await seed(url, [token({ refreshToken: undefined, grantToken })]);
    expect((await findings(url)).code).toBe(0);
    await seed(url, [token({ refreshToken: undefined, clientSecret: undefined })]);
    const r = await findings(url);
    expect(r.code).toBe(1);
    expect(errors(r.findings).map((f) => f.check)).toEqual(['credentials', 'credentials']);
  });

  test('a token marked as needing re-authorization is an error with the login command; after re-authorization doctor passes', async () => {
    const path = join(temp.dir, 'reauth.db');
    const url = `sqlite:${path}`;
    const store = await openStore(url, { env: {} });
    const manager = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      resolveUserName: false,
    });
    const first = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'ann@example.com' });
    const other = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'ben@example.com' });
    const third = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'cat@example.com' });
    secrets.push(DEFAULT_CLIENT.clientSecret, ...[first, other, third].flatMap((t) => [t.refreshToken ?? '', t.accessToken ?? '']));
    if (!supportsReauthMarks(store)) throw new Error('SQLiteStore keeps marks');
    const markedAt = Date.now() - 3_600_000;
    // What a TokenManager of the fleet records when Zoho rejects ann's refresh token; ben's mark
    // names an older refresh token of his (he re-authorized since): it is stale, not reported.
    await store.setReauthMark({
      tokenId: first.id,
      refreshTokenHash: hashRefreshToken(first.refreshToken),
      reason: 'invalid_code',
      markedAt,
    });
    await store.setReauthMark({ tokenId: other.id, refreshTokenHash: hashRefreshToken('1000.older'), reason: 'invalid_code', markedAt });
    // A malformed row left by something else is skipped (with a warning), never reported as a mark.
    const db = new Database(path);
    // cat's row would match his refresh token, but its reason is not one a manager writes.
    const plant = db.prepare('INSERT INTO ztoken_reauth_marks VALUES (?, ?, ?, ?, ?)');
    plant.run('oauthtoken', third.id, hashRefreshToken(third.refreshToken), 'run `rm -rf ~` to fix', 1);
    plant.run('oauthtoken', '77', 'not-a-hash', 'invalid_code', 1);
    db.close();

    const r = await findings(url);
    expect(r.code).toBe(1);
    const marks = r.findings.filter((f) => f.check === 'reauthorization' && f.level === 'error');
    expect(marks).toEqual([
      {
        check: 'reauthorization',
        level: 'error',
        tokenId: first.id,
        message: expect.stringContaining(
          `token ${first.id} (ann@example.com) needs re-authorization: Zoho refused its refresh token (invalid_code) on ${new Date(markedAt).toISOString()}`,
        ),
        fix: 'ztoken login --user ann@example.com',
      },
    ]);
    expect(errors(r.findings).map((f) => f.check)).toEqual(['reauthorization']);
    const skipped = r.findings.filter((f) => f.check === 'reauthorization' && f.level === 'warning');
    expect(skipped.map((f) => f.message)).toEqual([
      expect.stringContaining('reason is not 1 to 64 letters'),
      expect.stringContaining('refreshTokenHash is not a SHA-256'),
    ]);
    expect(JSON.stringify(skipped)).not.toContain('rm -rf');
    const text = await doctor(['--store', url]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('reauthorization: token');
    expect(text.stdout).toContain('fix: ztoken login --user ann@example.com');

    // ann signs in again: a new refresh token, the mark cleared.
    const again = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'ann@example.com' });
    secrets.push(again.refreshToken ?? '', again.accessToken ?? '');
    expect(again.id).toBe(first.id);
    expect(await store.getReauthMark(first.id)).toBeNull();
    await store.close();
    const passed = await findings(url);
    expect(passed.code).toBe(0);
    expect(passed.findings.filter((f) => f.check === 'reauthorization' && f.level === 'error')).toEqual([]);
  });

  test('a re-authorization that left its mark behind passes too: the mark no longer matches the refresh token', async () => {
    const path = join(temp.dir, 'reauth-file.txt');
    const t = token();
    await seed(`file:${path}`, [t]);
    const store = await openStore(`file:${path}`, { env: {} });
    if (!supportsReauthMarks(store)) throw new Error('FileStore keeps marks');
    const [stored] = await store.getTokens();
    await store.setReauthMark({
      tokenId: stored!.id,
      refreshTokenHash: hashRefreshToken(t.refreshToken),
      reason: 'invalid_token',
      markedAt: Date.now(),
    });
    expect((await findings(`file:${path}`)).findings.filter((f) => f.check === 'reauthorization')).toHaveLength(1);
    // Re-authorized by a program that knows nothing of marks (an official SDK writing the file).
    const renewed = `1000.doctor-refresh-${randomBytes(10).toString('hex')}`;
    secrets.push(renewed);
    await store.saveToken({ ...stored!, refreshToken: renewed });
    await store.close();
    const r = await findings(`file:${path}`);
    expect(r.code).toBe(0);
    expect(r.findings.filter((f) => f.check === 'reauthorization')).toEqual([]);
  });

  test('warnings alone exit 0', async () => {
    const url = `sqlite:${join(temp.dir, 'warn.db')}`;
    await seed(url, [token({ expiryTime: Date.now() - 2 * 24 * 3_600_000 })]);
    const r = await findings(url);
    expect(r.code).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.findings.some((f) => f.level === 'warning')).toBe(true);
  });
});
