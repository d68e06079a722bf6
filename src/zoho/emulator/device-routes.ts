/**
 * Zoho's device flow (ZOHO.md "Other ways to get tokens"), for CLIs and headless servers:
 *
 * - POST /oauth/v3/device/code (grant_type=device_request, client_id, scope, access_type):
 *   `{"user_code","device_code","verification_url","verification_uri_complete","interval","expires_in"}`.
 * - POST /oauth/v3/device/token (grant_type=device_token, client_id, client_secret, code=device_code):
 *   `{"error":"authorization_pending"}` until a test approves, `slow_down` when polled sooner than
 *   `interval` after the last poll (emulated clock) or when a test forces it, `expired` after
 *   `expires_in`, `access_denied` when denied, `{"error":"other_dc","user_location":"eu"}` when
 *   approved in another DC, else the tokens of a normal code exchange (the same issuing code).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readParams, sendJson } from './http.js';
import type { OAuthContext } from './oauth-routes.js';
import type { EmulatorState } from './state.js';

export const DEVICE_CODE_PATH = '/oauth/v3/device/code';
export const DEVICE_TOKEN_PATH = '/oauth/v3/device/token';
/** Seconds between polls the emulator asks for, and how long a user code lives (Zoho: 5 min). */
export const DEVICE_INTERVAL_S = 5;
export const DEVICE_EXPIRES_S = 300;

interface DeviceRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string | undefined;
  accessType: 'offline' | 'online';
  expiresAt: number;
  lastPollAt: number | undefined;
  status: 'pending' | 'approved' | 'denied' | 'other_dc';
  userEmail?: string;
  location?: string;
  slowDownNext: boolean;
}

export interface DeviceApproval {
  /** The email of the user who approves (default: the emulator's first user). */
  userName?: string;
  /** Approved in another DC (e.g. `eu`): this emulator answers `other_dc` with this location... */
  location?: string;
  /** ...and the emulator of that DC (`elsewhere`) takes the device code over, approved. */
  elsewhere?: { device: DeviceControl };
}

/** What tests drive: approve, deny or slow down a pending user code. */
export interface DeviceControl {
  approve(userCode: string, approval?: DeviceApproval): void;
  deny(userCode: string): void;
  slowDownNext(userCode: string): void;
  /** The user code of the latest device code request (handy when the prompt went elsewhere). */
  readonly lastUserCode: string | undefined;
  /** @internal Another DC's emulator hands an approved device code over. */
  adopt(record: DeviceRecord): void;
}

export class DeviceRegistry implements DeviceControl {
  readonly #byDevice = new Map<string, DeviceRecord>();
  readonly #byUser = new Map<string, DeviceRecord>();
  #last: string | undefined;
  constructor(private readonly state: EmulatorState) {}

  get lastUserCode(): string | undefined {
    return this.#last;
  }

  create(clientId: string, scope: string | undefined, accessType: 'offline' | 'online', now: number): DeviceRecord {
    const record: DeviceRecord = {
      deviceCode: `1004.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`,
      userCode: randomBytes(4).toString('hex').toUpperCase(),
      clientId,
      scope,
      accessType,
      expiresAt: now + DEVICE_EXPIRES_S * 1000,
      lastPollAt: undefined,
      status: 'pending',
      slowDownNext: false,
    };
    this.adopt(record);
    this.#last = record.userCode;
    return record;
  }

  adopt(record: DeviceRecord): void {
    this.#byDevice.set(record.deviceCode, record);
    this.#byUser.set(record.userCode, record);
  }

  #pending(userCode: string): DeviceRecord {
    const record = this.#byUser.get(userCode);
    if (!record) throw new Error(`No device request has user code ${userCode}`);
    return record;
  }

  approve(userCode: string, approval: DeviceApproval = {}): void {
    const record = this.#pending(userCode);
    if (approval.location !== undefined) {
      if (!approval.elsewhere) throw new Error('approve with a location needs the emulator of that DC as `elsewhere`');
      record.status = 'other_dc';
      record.location = approval.location.toLowerCase();
      approval.elsewhere.device.adopt({ ...record, status: 'approved', userEmail: approval.userName, lastPollAt: undefined });
      return;
    }
    record.status = 'approved';
    record.userEmail = approval.userName;
  }

  deny(userCode: string): void {
    this.#pending(userCode).status = 'denied';
  }

  slowDownNext(userCode: string): void {
    this.#pending(userCode).slowDownNext = true;
  }

  /** One poll: Zoho's error string (and its extra fields), or the token body. */
  poll(params: Record<string, string>, now: number): { error: string; extra?: Record<string, string> } | { body: Record<string, unknown> } {
    if (params.grant_type !== 'device_token') return { error: 'unsupported_grant_type' };
    const client = this.state.getClient(params.client_id ?? '');
    if (!client || client.clientSecret !== params.client_secret) return { error: 'invalid_client' };
    const record = this.#byDevice.get(params.code ?? '');
    if (!record || record.clientId !== client.clientId) return { error: 'invalid_code' };
    if (record.expiresAt <= now) return { error: 'expired' };
    const last = record.lastPollAt;
    record.lastPollAt = now;
    if (record.slowDownNext || (last !== undefined && now - last < DEVICE_INTERVAL_S * 1000)) {
      record.slowDownNext = false;
      return { error: 'slow_down' };
    }
    if (record.status === 'pending') return { error: 'authorization_pending' };
    if (record.status === 'denied') return { error: 'access_denied' };
    if (record.status === 'other_dc') return { error: 'other_dc', extra: { user_location: record.location ?? '' } };
    // Approved: issue and exchange a grant at once, so the answer is exactly a code exchange's.
    const code = this.state.issueGrant({
      clientId: client.clientId,
      userEmail: record.userEmail,
      scope: record.scope,
      accessType: record.accessType,
    });
    this.#byDevice.delete(record.deviceCode);
    this.#byUser.delete(record.userCode);
    const outcome = this.state.token({
      grant_type: 'authorization_code',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      code,
    });
    return outcome.ok ? { body: outcome.body } : { error: String(outcome.body.error ?? 'server_error') };
  }
}

function requirePost(req: IncomingMessage): void {
  if (req.method !== 'POST') throw new HttpError(405, { error: 'method_not_allowed', message: 'use POST' });
}

export async function deviceCodeRoute(
  ctx: OAuthContext,
  devices: DeviceRegistry,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  requirePost(req);
  const params = await readParams(req, url);
  if (params.grant_type !== 'device_request') {
    sendJson(res, ctx.tokenErrorStatus, { error: 'unsupported_grant_type' });
    return;
  }
  const client = ctx.state.getClient(params.client_id ?? '');
  if (!client) {
    sendJson(res, ctx.tokenErrorStatus, { error: 'invalid_client' });
    return;
  }
  const record = devices.create(
    client.clientId,
    params.scope || undefined,
    params.access_type === 'offline' ? 'offline' : 'online',
    ctx.state.clock.now(),
  );
  const verificationUrl = `${ctx.url}/oauth/v3/device`;
  sendJson(res, 200, {
    user_code: record.userCode,
    device_code: record.deviceCode,
    verification_url: verificationUrl,
    verification_uri_complete: `${verificationUrl}?code=${record.userCode}`,
    interval: DEVICE_INTERVAL_S,
    expires_in: DEVICE_EXPIRES_S,
  });
}

export async function deviceTokenRoute(
  ctx: OAuthContext,
  devices: DeviceRegistry,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  requirePost(req);
  const params = await readParams(req, url);
  const outcome = devices.poll(params, ctx.state.clock.now());
  if ('body' in outcome) sendJson(res, 200, outcome.body);
  else sendJson(res, ctx.tokenErrorStatus, { error: outcome.error, ...(outcome.extra ?? {}) });
}
