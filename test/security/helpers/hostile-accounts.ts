/**
 * An accounts server that misbehaves in the ways that tempt a client to print secrets: it echoes
 * the client secret, refresh token and grant code it was sent back in HTML, in JSON error
 * fields, in a 500 body, or never answers at all. The first path segment picks the behaviour:
 * `${url}/echo-html` is an accountsUrl whose token endpoint answers HTML with the secrets.
 */
import { type LocalServer, localServer, readAll } from '../../zoho/helpers.js';

export const HOSTILE_MODES = [
  'echo-html',
  'echo-json-error',
  'echo-error-code',
  'echo-500',
  'echo-no-access-token',
  'echo-throttle',
  'echo-revoke-status',
  'silent',
] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

export async function hostileAccountsServer(): Promise<LocalServer & { accountsUrl(mode: HostileMode): string }> {
  const server = await localServer((req, res) => {
    void (async () => {
      const mode = (req.url ?? '/').split('/')[1] as HostileMode;
      const params = new URLSearchParams(await readAll(req));
      const echoed = ['client_secret', 'refresh_token', 'code', 'token']
        .map((name) => params.get(name))
        .filter((value): value is string => Boolean(value))
        .join(' ');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      switch (mode) {
        case 'silent':
          return; // never answers: the client's timeout must fire
        case 'echo-html':
          res.writeHead(502, { 'content-type': 'text/html' });
          res.end(`${echoed} <html><body>Bad gateway for ${params.toString()}</body></html>`);
          return;
        case 'echo-json-error':
          return json(200, { error: 'invalid_code', error_description: `the code ${echoed} was rejected` });
        case 'echo-error-code':
          return json(400, { error: `unknown ${echoed}` });
        case 'echo-500':
          return json(500, {
            message: 'internal error',
            client_secret: params.get('client_secret'),
            refresh_token: params.get('refresh_token'),
          });
        case 'echo-no-access-token':
          return json(200, { refresh_token: params.get('refresh_token') ?? params.get('code'), note: echoed });
        case 'echo-throttle':
          return json(200, { error: 'Access Denied', error_description: `You have made too many requests with ${echoed}` });
        case 'echo-revoke-status':
          return json(200, { status: `failure for ${echoed}` });
        default:
          return json(404, { error: 'not_found' });
      }
    })();
  });
  return { ...server, accountsUrl: (mode) => `${server.url}/${mode}` };
}
