/**
 * Runs the doctor's checks on an open store, in order: layout, file mode, then each token, the
 * duplicates across tokens and the tokens marked as needing re-authorization. The store is
 * opened (and its failure reported) by the caller.
 */
import type { TokenStore } from '../store.js';
import { FileStore } from '../stores/file.js';
import type { ZohoHosts } from '../zoho/hosts.js';
import { checkFileMode } from './file-mode.js';
import { checkOnline } from './online.js';
import { checkReauthMarks } from './reauth-marks.js';
import type { Finding } from './findings.js';
import { checkDuplicates, checkToken } from './token-checks.js';

export interface DoctorOptions {
  hosts: ZohoHosts;
  keysLoaded: boolean;
  login: string;
  now?: number;
  /** One refresh-free API call per token. */
  online?: boolean;
}

/** The layout the store detected, where the store can tell. */
async function layoutFinding(store: TokenStore): Promise<Finding | null> {
  if (store instanceof FileStore) return { check: 'layout', level: 'ok', message: `file layout ${store.layout}` };
  const sql = store as Partial<{ tableLayout(): Promise<{ name: string; absentFields: string[] }> }>;
  if (typeof sql.tableLayout !== 'function') return null;
  const { name, absentFields } = await sql.tableLayout();
  const absent = absentFields.length > 0 ? ` (columns absent: ${absentFields.join(', ')})` : '';
  return { check: 'layout', level: 'ok', message: `table layout ${name}${absent}` };
}

export async function runDoctor(store: TokenStore, options: DoctorOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const layout = await layoutFinding(store);
  if (layout) findings.push(layout);
  if (store instanceof FileStore) findings.push(checkFileMode(store.path));
  const tokens = await store.getTokens();
  const ctx = { hosts: options.hosts, keysLoaded: options.keysLoaded, login: options.login, now: options.now ?? Date.now() };
  for (const token of tokens) findings.push(...checkToken(token, ctx));
  findings.push(...checkDuplicates(tokens));
  findings.push(...(await checkReauthMarks(store, tokens, options.login)));
  if (options.online) for (const token of tokens) findings.push(await checkOnline(token, options.hosts, ctx.now));
  if (tokens.length === 0) findings.push({ check: 'tokens', level: 'warning', message: 'the store holds no tokens', fix: options.login });
  return findings;
}
