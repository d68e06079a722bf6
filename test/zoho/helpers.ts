/** Shared helpers of the Zoho tests: raw HTTP against the emulator and tiny local servers. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { DEFAULT_CLIENT, type Emulator } from '../../src/zoho/emulator/index.js';

export const CLIENT_ID = DEFAULT_CLIENT.clientId;
export const CLIENT_SECRET = DEFAULT_CLIENT.clientSecret;
export const ZOHO_TOKEN = /^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/;

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function answer(res: Response): Promise<JsonAnswer> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** POST with the parameters as an urlencoded body. */
export async function postForm(url: string, params: Record<string, string>): Promise<JsonAnswer> {
  return answer(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    }),
  );
}

/** POST with the parameters in the query string and no body. */
export async function postQuery(url: string, params: Record<string, string>): Promise<JsonAnswer> {
  return answer(await fetch(`${url}?${new URLSearchParams(params)}`, { method: 'POST' }));
}

/** POST with the parameters as a multipart/form-data body (built by fetch from FormData). */
export async function postMultipart(url: string, params: Record<string, string>): Promise<JsonAnswer> {
  const form = new FormData();
  for (const [k, v] of Object.entries(params)) form.set(k, v);
  return answer(await fetch(url, { method: 'POST', body: form }));
}

export function exchangeParams(code: string, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code, ...extra };
}

export function refreshParams(refreshToken: string): Record<string, string> {
  return { grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: refreshToken };
}

/** Exchanges a fresh grant of the emulator; returns Zoho's success body. */
export async function newTokens(emu: Emulator, userEmail?: string): Promise<{ access_token: string; refresh_token: string }> {
  const code = emu.issueGrantToken(userEmail ? { userEmail } : {});
  const { body } = await postForm(`${emu.url}/oauth/v2/token`, exchangeParams(code));
  if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
    throw new Error(`exchange failed: ${JSON.stringify(body)}`);
  }
  return { access_token: body.access_token, refresh_token: body.refresh_token };
}

export async function refreshRaw(emu: Emulator, refreshToken: string): Promise<JsonAnswer> {
  return postForm(`${emu.url}/oauth/v2/token`, refreshParams(refreshToken));
}

/** GET a CRM path with an access token (or none). */
export async function crm(emu: Emulator, path: string, accessToken?: string, scheme = 'Zoho-oauthtoken'): Promise<JsonAnswer> {
  const headers: Record<string, string> = accessToken === undefined ? {} : { authorization: `${scheme} ${accessToken}` };
  return answer(await fetch(`${emu.url}${path}`, { headers }));
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A tiny http server on loopback with the given handler. */
export async function localServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port on loopback where nothing listens. */
export async function closedPort(): Promise<number> {
  const s = await localServer(() => undefined);
  await s.close();
  return s.port;
}

export function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/** Everything an error shows: message, stack, cause chain, own properties. */
export function everythingShown(err: unknown): string {
  return `${String(err)}\n${inspect(err, { depth: 10 })}\n${JSON.stringify(err)}`;
}
