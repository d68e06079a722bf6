/**
 * Admin endpoints, for other processes (fleet tests' children, the CLI demo). Not part of Zoho;
 * they carry no secrets but the grant code they mint. JSON in and out; parameters in the query
 * string or an urlencoded / multipart body.
 * - GET  /__emulator/state                 -> `{ now, url, counters, limits, sizes }`
 * - POST /__emulator/clock/advance?ms=N    -> `{ now }` (emulated time moves N ms forward)
 * - POST /__emulator/clock/set?ms=T        -> `{ now }` (emulated time set to epoch ms T)
 * - POST /__emulator/grant                 -> `{ code }`; params `client_id` (default: first
 *   client), `user` (email; default: first user), `scope`, `redirect_uri`, `access_type`.
 *   Over the grant limit: 429 with Zoho's throttle body; bad client/user: 400 `{ error, message }`.
 * - POST /__emulator/reset-counters        -> `{ status: "success" }`
 * - POST /__emulator/expire-access-tokens  -> `{ status: "success", expired: N }`
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZohoThrottleError, ZTokenError } from '../../errors.js';
import { HttpError, readParams, sendJson } from './http.js';
import { THROTTLE_BODY, type EmulatorState } from './state.js';

export const ADMIN_PREFIX = '/__emulator/';

function msParam(params: Record<string, string>): number {
  const ms = Number(params.ms);
  if (params.ms === undefined || params.ms.trim() === '' || !Number.isFinite(ms)) {
    throw new HttpError(400, { error: 'invalid_request', message: 'ms must be a number of milliseconds' });
  }
  return ms;
}

export async function adminRoute(
  state: EmulatorState,
  baseUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const action = url.pathname.slice(ADMIN_PREFIX.length);
  if (action === 'state') {
    if (req.method !== 'GET') throw new HttpError(405, { error: 'method_not_allowed', message: 'use GET' });
    sendJson(res, 200, { now: state.clock.now(), url: baseUrl, counters: state.counters, limits: state.limits, sizes: state.sizes() });
    return;
  }
  const known = ['clock/advance', 'clock/set', 'grant', 'reset-counters', 'expire-access-tokens'];
  if (!known.includes(action)) {
    throw new HttpError(404, { error: 'not_found', message: `Unknown admin endpoint ${url.pathname}` });
  }
  if (req.method !== 'POST') throw new HttpError(405, { error: 'method_not_allowed', message: 'use POST' });
  const params = await readParams(req, url);
  switch (action) {
    case 'clock/advance':
      state.clock.advance(msParam(params));
      sendJson(res, 200, { now: state.clock.now() });
      return;
    case 'clock/set':
      state.clock.set(msParam(params));
      sendJson(res, 200, { now: state.clock.now() });
      return;
    case 'grant': {
      try {
        const code = state.issueGrant({
          clientId: params.client_id || undefined,
          userEmail: params.user || params.user_email || undefined,
          scope: params.scope || undefined,
          redirectUri: params.redirect_uri || undefined,
          accessType: params.access_type === 'online' ? 'online' : 'offline',
        });
        sendJson(res, 200, { code });
      } catch (err) {
        if (err instanceof ZohoThrottleError) {
          sendJson(
            res,
            429,
            { ...THROTTLE_BODY, retry_after_ms: err.retryAfterMs },
            { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) },
          );
        } else if (err instanceof ZTokenError) {
          sendJson(res, 400, { error: err.reason.toLowerCase(), message: err.message });
        } else throw err;
      }
      return;
    }
    case 'reset-counters':
      state.resetCounters();
      sendJson(res, 200, { status: 'success' });
      return;
    case 'expire-access-tokens':
      sendJson(res, 200, { status: 'success', expired: state.expireAccessTokens() });
      return;
  }
}
