/**
 * Zoho's accounts endpoints, answered as Zoho does (ZOHO.md "Accounts endpoints").
 *
 * - POST /oauth/v2/token: parameters in the query string, an urlencoded or a multipart body.
 *   Success: `{"access_token","refresh_token" (exchange only),"api_domain","token_type":"Bearer","expires_in"}`.
 *   Errors: HTTP 200 by default (`tokenErrorStatus: 400` to answer 400 instead) with
 *   `{"error":"invalid_code"}`, `{"error":"invalid_client"}`, `{"error":"invalid_redirect_uri"}`,
 *   `{"error":"unsupported_grant_type"}`, or the throttle `{"error":"Access Denied","error_description":...}`,
 *   which also carries a `Retry-After` header (seconds of emulated time until the window frees
 *   a slot; Zoho sends none, clients may use it when present).
 * - POST /oauth/v2/token/revoke?token=RT (query or form): `{"status":"success"}`; an unknown
 *   token: `{"status":"failure","error":"invalid_token"}` (same HTTP status as token errors).
 * - GET /oauth/v2/auth?client_id&response_type=code&redirect_uri&scope&access_type&state&login_hint:
 *   consents at once as `login_hint` (or `user`, else the first user) and answers 302 to
 *   `redirect_uri?code=..&location=<its DC, e.g. us>&accounts-server=<emulator url>&state=..`. Like Zoho,
 *   `access_type` defaults to `online` (no refresh token): ask `access_type=offline`.
 *   A redirect URI the client did not register (its `redirectUris`): HTTP 400 and Zoho's error page,
 *   titled "Invalid Redirect Uri" (no redirect). A bad client or response type: HTTP 400 JSON
 *   `{"error": ..., "message": ...}`.
 *   Over the client's grant limit: 302 to `redirect_uri?error=access_denied&state=..`.
 *   An unknown `login_hint` signs in a new user with that email (anyone may sign in).
 * - GET /oauth/serverinfo (the US emulator only): each DC's accounts server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZohoThrottleError, ZTokenError } from '../../errors.js';
import { HttpError, readParams, redirect, sendJson } from './http.js';
import type { DataCenter } from '../datacenter.js';
import type { EmulatorState } from './state.js';

export interface OAuthContext {
  state: EmulatorState;
  /** The emulator's base URL (its accounts server). */
  url: string;
  tokenErrorStatus: 200 | 400;
  /** The DC this emulator plays: its `location` in the login redirect. */
  dataCenter: DataCenter;
  /** `GET /oauth/serverinfo`'s answer (US only): each DC's accounts server. */
  serverInfo: Readonly<Record<DataCenter, string>>;
}

function requirePost(req: IncomingMessage): void {
  if (req.method !== 'POST') {
    throw new HttpError(405, { error: 'method_not_allowed', message: `${req.method ?? ''} is not allowed here; use POST` });
  }
}

export async function tokenRoute(ctx: OAuthContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  requirePost(req);
  const params = await readParams(req, url);
  const outcome = ctx.state.token(params);
  if (outcome.ok) {
    sendJson(res, 200, outcome.body);
    return;
  }
  const headers: Record<string, string> =
    outcome.retryAfterMs !== undefined ? { 'retry-after': String(Math.ceil(outcome.retryAfterMs / 1000)) } : {};
  sendJson(res, ctx.tokenErrorStatus, outcome.body, headers);
}

export async function revokeRoute(ctx: OAuthContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  requirePost(req);
  const params = await readParams(req, url);
  if (ctx.state.revokeEndpoint(params.token)) sendJson(res, 200, { status: 'success' });
  else sendJson(res, ctx.tokenErrorStatus, { status: 'failure', error: 'invalid_token' });
}

export async function authRoute(ctx: OAuthContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(405, { error: 'method_not_allowed', message: 'use GET' });
  }
  const q = url.searchParams;
  const clientId = q.get('client_id') ?? '';
  const client = ctx.state.getClient(clientId);
  if (!client) throw new HttpError(400, { error: 'invalid_client', message: 'Unknown client_id' });
  const redirectUri = q.get('redirect_uri') ?? '';
  let target: URL;
  try {
    target = new URL(redirectUri);
  } catch {
    invalidRedirectPage(res);
    return;
  }
  if (!ctx.state.redirectAllowed(client, redirectUri)) {
    invalidRedirectPage(res);
    return;
  }
  if (q.get('response_type') !== 'code') {
    throw new HttpError(400, { error: 'unsupported_response_type', message: 'response_type must be code' });
  }
  const state = q.get('state');
  try {
    const code = ctx.state.issueGrant({
      clientId,
      userEmail: q.get('login_hint') || q.get('user') || undefined,
      scope: q.get('scope') || undefined,
      redirectUri,
      accessType: q.get('access_type') === 'offline' ? 'offline' : 'online',
    });
    target.searchParams.append('code', code);
    target.searchParams.append('location', ctx.dataCenter.toLowerCase());
    target.searchParams.append('accounts-server', ctx.url);
  } catch (err) {
    if (err instanceof ZohoThrottleError) target.searchParams.append('error', 'access_denied');
    else if (err instanceof ZTokenError) throw new HttpError(400, { error: 'invalid_request', message: err.message });
    else throw err;
  }
  if (state !== null) target.searchParams.append('state', state);
  redirect(res, target.toString());
}

/**
 * Zoho's answer to a redirect URI the client did not register: an error page in the browser, never
 * a redirect (the URI is not trusted). Zoho's page is titled "Invalid Redirect Uri"; so is this one.
 */
function invalidRedirectPage(res: ServerResponse): void {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>Invalid Redirect Uri</title></head>' +
    '<body><h1>Invalid Redirect Uri</h1><p>Redirect URI passed does not match with the one configured.</p></body></html>\n';
  res.writeHead(400, { 'content-type': 'text/html;charset=UTF-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  res.end(html);
}

/**
 * GET /oauth/serverinfo: `{"result":"success","locations":{"us":"https://accounts.zoho.com",...}}`,
 * Zoho's list of DC accounts servers (the emulator's own DC answers its own url).
 */
export function serverInfoRoute(ctx: OAuthContext, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(405, { error: 'method_not_allowed', message: 'use GET' });
  }
  const locations: Record<string, string> = {};
  for (const [dc, accounts] of Object.entries(ctx.serverInfo)) locations[dc.toLowerCase()] = accounts;
  sendJson(res, 200, { result: 'success', locations });
}
