/**
 * Just enough of Zoho Books (`https://www.zohoapis.<tld>/books/v3`) to test that product
 * routing and the organization id reach the right DC for real. Same token check as the CRM
 * routes (the zohoapis gateway answers 401 INVALID_TOKEN for a bad token).
 * - GET /books/v3/organizations -> `{"code":0,"message":"success","organizations":[{organization_id,name,...}]}`
 * - GET /books/v3/invoices?organization_id=ID -> `{"code":0,"message":"success","invoices":[],"page_context":{...}}`;
 *   a missing or foreign organization_id: HTTP 400 `{"code":6041,"message":...}` as Books does.
 * - other paths: 404 `{"code":5,"message":"Invalid URL Passed"}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_TOKEN_BODY } from './crm-routes.js';
import { sendJson } from './http.js';
import type { EmulatorState, EmulatorUser } from './state.js';

export const BOOKS_PATH = /^\/books\/v3\/(.+)$/;

/** The Books organization of an emulated user: one per org (zgid). */
export function booksOrganizationId(user: EmulatorUser): string {
  return `8${user.zgid}`.slice(0, 19);
}

export function booksRoute(state: EmulatorState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const auth = state.authenticate(req.headers.authorization);
  state.countApiCall(auth === null, 'books');
  if (!auth) {
    sendJson(res, 401, INVALID_TOKEN_BODY);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { code: 4, message: 'Invalid request method' });
    return;
  }
  const resource = BOOKS_PATH.exec(url.pathname)?.[1] ?? '';
  const organizationId = booksOrganizationId(auth.user);
  if (resource === 'organizations') {
    const domain = auth.user.email.split('@')[1] ?? 'zylker.com';
    sendJson(res, 200, {
      code: 0,
      message: 'success',
      organizations: [
        { organization_id: organizationId, name: domain.split('.')[0] ?? domain, is_default_org: true, currency_code: 'USD' },
      ],
    });
    return;
  }
  if (resource === 'invoices') {
    if (url.searchParams.get('organization_id') !== organizationId) {
      sendJson(res, 400, { code: 6041, message: 'This user is not associated with the CompanyID/CompanyName:.' });
      return;
    }
    sendJson(res, 200, { code: 0, message: 'success', invoices: [], page_context: { page: 1, per_page: 200, has_more_page: false } });
    return;
  }
  sendJson(res, 404, { code: 5, message: 'Invalid URL Passed' });
}
