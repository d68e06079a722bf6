/**
 * Zoho CRM API routes (any version `/crm/vN/`, ZOHO.md "CRM API"). Every request needs
 * `Authorization: Zoho-oauthtoken <access token>`; a missing, unknown, expired, revoked or
 * displaced token answers HTTP 401 `{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}`.
 * - GET /crm/vN/users?type=CurrentUser -> `{"users":[{id,email,full_name,...}],"info":{...}}` (the token's user;
 *   other types list every user)
 * - GET /crm/vN/org -> `{"org":[{zgid,company_name,...}]}` (the zgid of the token's user)
 * - GET /crm/vN/Leads?page&per_page -> `{"data":[...],"info":{...}}`; a page past the end: 204
 * - GET /crm/vN/Leads/{id} -> `{"data":[record]}`; an unknown id: 204 (no content)
 * - GET /crm/vN/settings/fields?module=Leads and /crm/vN/settings/modules: see settings-routes.ts
 * - other paths: 404 `{"code":"INVALID_URL_PATTERN",...}`; other methods: 405 `INVALID_REQUEST_METHOD`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendCrmError, sendJson } from './http.js';
import { SAMPLE_LEADS } from './sample-data.js';
import { settingsRoute } from './settings-routes.js';
import type { AccessRecord, EmulatorState, EmulatorUser } from './state.js';

export const CRM_PATH = /^\/crm\/v\d+(?:\.\d+)?\/(.+)$/;

export const INVALID_TOKEN_BODY = Object.freeze({
  code: 'INVALID_TOKEN',
  details: {},
  message: 'invalid oauth token',
  status: 'error',
});

function userJson(user: EmulatorUser): Record<string, unknown> {
  const [first, ...rest] = user.name.split(' ');
  return {
    id: user.id,
    zuid: user.id.slice(-9),
    email: user.email,
    full_name: user.name,
    first_name: rest.length ? (first ?? '') : null,
    last_name: rest.length ? rest.join(' ') : user.name,
    status: 'active',
    confirm: true,
    role: { name: 'CEO', id: '4876876000000026005' },
    profile: { name: 'Administrator', id: '4876876000000026011' },
    locale: 'en_US',
    language: 'en_US',
    country: 'US',
    time_zone: 'America/Los_Angeles',
  };
}

function orgJson(user: EmulatorUser): Record<string, unknown> {
  const domain = user.email.split('@')[1] ?? 'zylker.com';
  const company = domain.split('.')[0] ?? 'zylker';
  return {
    id: `4876876${user.zgid.padStart(12, '0')}`.slice(0, 19),
    zgid: user.zgid,
    company_name: company.charAt(0).toUpperCase() + company.slice(1),
    domain_name: `org${user.zgid}`,
    primary_email: user.email,
    primary_zuid: user.id.slice(-9),
    type: 'production',
    country_code: 'US',
    currency: 'US Dollar - USD',
    iso_code: 'USD',
    currency_symbol: '$',
    time_zone: 'America/Los_Angeles',
  };
}

function leadJson(lead: (typeof SAMPLE_LEADS)[number], owner: EmulatorUser): Record<string, unknown> {
  return {
    ...lead,
    Full_Name: `${lead.First_Name} ${lead.Last_Name}`,
    Modified_Time: lead.Created_Time,
    Owner: { name: owner.name, id: owner.id, email: owner.email },
  };
}

function positiveInt(value: string | null, fallback: number, max: number): number {
  const n = value === null ? Number.NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

export function crmRoute(state: EmulatorState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const auth: AccessRecord | null = state.authenticate(req.headers.authorization);
  state.countApiCall(auth === null);
  if (!auth) {
    sendJson(res, 401, INVALID_TOKEN_BODY);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendCrmError(res, 405, 'INVALID_REQUEST_METHOD', 'The http request method type is not a valid one');
    return;
  }
  const rest = CRM_PATH.exec(url.pathname)?.[1] ?? '';
  const parts = rest.split('/').filter(Boolean);
  const [resource, id, extra] = parts;
  const user = auth.user;
  if (resource === 'users' && id === undefined) {
    const type = url.searchParams.get('type') ?? 'AllUsers';
    const users = type === 'CurrentUser' ? [user] : state.allUsers();
    sendJson(res, 200, {
      users: users.map(userJson),
      info: { per_page: 200, count: users.length, page: 1, more_records: false },
    });
    return;
  }
  if (resource === 'settings' && settingsRoute(req, res, url, parts.slice(1), user)) return;
  if (resource === 'org' && id === undefined) {
    sendJson(res, 200, { org: [orgJson(user)] });
    return;
  }
  if (resource?.toLowerCase() === 'leads' && extra === undefined) {
    if (id !== undefined) {
      const lead = SAMPLE_LEADS.find((l) => l.id === id);
      if (!lead) {
        res.writeHead(204).end();
        return;
      }
      sendJson(res, 200, { data: [leadJson(lead, user)] });
      return;
    }
    const perPage = positiveInt(url.searchParams.get('per_page'), 200, 200);
    const page = positiveInt(url.searchParams.get('page'), 1, 10_000);
    const slice = SAMPLE_LEADS.slice((page - 1) * perPage, page * perPage);
    if (slice.length === 0) {
      res.writeHead(204).end();
      return;
    }
    sendJson(res, 200, {
      data: slice.map((l) => leadJson(l, user)),
      info: {
        per_page: perPage,
        count: slice.length,
        page,
        sort_by: 'id',
        sort_order: 'desc',
        more_records: page * perPage < SAMPLE_LEADS.length,
      },
    });
    return;
  }
  sendCrmError(res, 404, 'INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one');
}
