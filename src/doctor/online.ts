/**
 * `--online`: one call per token to Zoho CRM's current-user endpoint with the stored access
 * token, to prove it still works. Never refreshes: an expired token is skipped with a note.
 */
import type { StoredToken } from '../token.js';
import type { ZohoHosts } from '../zoho/hosts.js';
import type { Finding } from './findings.js';

export async function checkOnline(token: StoredToken, hosts: ZohoHosts, now: number): Promise<Finding> {
  const check = 'online';
  const tokenId = token.id;
  if (!token.accessToken || (token.expiryTime ?? 0) <= now) {
    return {
      check,
      level: 'warning',
      tokenId,
      message: `token ${tokenId}: not called, its access token has expired (doctor never refreshes)`,
      fix: `ztoken refresh ${tokenId}`,
    };
  }
  let base: string;
  try {
    base = hosts.productBaseOf('crm', hosts.locate(token.apiDomain));
  } catch {
    return { check, level: 'warning', tokenId, message: `token ${tokenId}: not called, its host is not trusted (see the host finding)` };
  }
  let status: number;
  try {
    const res = await fetch(`${base}/users?type=CurrentUser`, {
      headers: { authorization: `Zoho-oauthtoken ${token.accessToken}` },
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    status = res.status;
  } catch (error) {
    return { check, level: 'warning', tokenId, message: `token ${tokenId}: the call to ${base} failed: ${(error as Error).message}` };
  }
  if (status >= 200 && status < 300) return { check, level: 'ok', tokenId, message: `token ${tokenId}: its access token works (${base})` };
  if (status === 401) {
    return {
      check,
      level: 'error',
      tokenId,
      message: `token ${tokenId}: Zoho refused its unexpired access token (HTTP 401 from ${base})`,
      fix: `ztoken refresh ${tokenId}`,
    };
  }
  return {
    check,
    level: 'warning',
    tokenId,
    message: `token ${tokenId}: ${base} answered HTTP ${status} (the token may lack the CRM users scope)`,
  };
}
