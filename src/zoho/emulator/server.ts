/** The emulator's HTTP server (node:http only): routing, latency, error answers. Never logs. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ADMIN_PREFIX, adminRoute } from './admin-routes.js';
import { BOOKS_PATH, booksRoute } from './books-routes.js';
import { CRM_PATH, crmRoute } from './crm-routes.js';
import { DEVICE_CODE_PATH, DEVICE_TOKEN_PATH, type DeviceRegistry, deviceCodeRoute, deviceTokenRoute } from './device-routes.js';
import { HttpError, sendJson } from './http.js';
import { authRoute, type OAuthContext, revokeRoute, serverInfoRoute, tokenRoute } from './oauth-routes.js';

export interface ServerContext extends OAuthContext {
  /** Real milliseconds added before answering each Zoho (non-admin) request. */
  latencyMs: number;
  /** The device flow's pending user codes. */
  devices: DeviceRegistry;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://emulator.invalid');
  } catch {
    throw new HttpError(400, { error: 'invalid_request', message: 'malformed request target' });
  }
  const path = url.pathname;
  if (path.startsWith(ADMIN_PREFIX)) return adminRoute(ctx.state, ctx.url, req, res, url);
  if (ctx.latencyMs > 0) await sleep(ctx.latencyMs);
  switch (path) {
    case '/oauth/v2/token':
      return tokenRoute(ctx, req, res, url);
    case '/oauth/v2/token/revoke':
      return revokeRoute(ctx, req, res, url);
    case '/oauth/v2/auth':
      return authRoute(ctx, req, res, url);
    case DEVICE_CODE_PATH:
      return deviceCodeRoute(ctx, ctx.devices, req, res, url);
    case DEVICE_TOKEN_PATH:
      return deviceTokenRoute(ctx, ctx.devices, req, res, url);
    case '/oauth/serverinfo':
      // Zoho serves the list of DC accounts servers from the US accounts server only.
      if (ctx.dataCenter === 'US') return serverInfoRoute(ctx, req, res);
  }
  if (CRM_PATH.test(path)) return crmRoute(ctx.state, req, res, url);
  if (BOOKS_PATH.test(path)) return booksRoute(ctx.state, req, res, url);
  throw new HttpError(404, {
    code: 'INVALID_URL_PATTERN',
    details: {},
    message: 'Please check if the URL trying to access is a correct one',
    status: 'error',
  });
}

export function createEmulatorServer(ctx: ServerContext): Server {
  const server = createServer((req, res) => {
    // The Date header follows the emulated clock, so clock-skew checks (ztoken doctor) can be tested.
    res.setHeader('date', new Date(ctx.state.clock.now()).toUTCString());
    route(ctx, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, err.body);
      // Unexpected failures answer without details: the request may have carried secrets.
      else sendJson(res, 500, { error: 'internal_error', message: 'the emulator failed to answer this request' });
    });
  });
  server.keepAliveTimeout = 10_000;
  return server;
}
