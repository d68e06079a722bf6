/**
 * An AWS Lambda (or any short-lived function) calling Zoho CRM through a `ztoken serve` broker:
 * no token store, no database connection, no lock, no refresh in the function. The client lives
 * outside the handler, so warm invocations reuse its cached token until just before it expires.
 *
 *   ZTOKEN_BROKER_URL=https://tokens.internal:8787
 *   ZTOKEN_BROKER_KEY=ztk_...            (printed once by `ztoken serve-key add`)
 *   ZOHO_USER=alice@zylker.com
 *
 * In a package: `import { BrokerClient } from 'zoho-token-store/broker';`
 */
import { BrokerClient, BrokerError } from '../src/broker/client.js';

const broker = new BrokerClient({
  url: process.env.ZTOKEN_BROKER_URL ?? 'http://127.0.0.1:8787',
  key: process.env.ZTOKEN_BROKER_KEY ?? '',
});
const user = { userName: process.env.ZOHO_USER ?? 'alice@zylker.com' };

interface LambdaResult {
  statusCode: number;
  body: string;
}

/** GET the newest leads; a 401 INVALID_TOKEN from Zoho is retried once by the client. */
export async function handler(event: { perPage?: number } = {}): Promise<LambdaResult> {
  const perPage = Math.min(Math.max(Math.trunc(event.perPage ?? 10), 1), 200);
  try {
    const response = await broker.fetch(user, `/crm/v8/Leads?fields=Last_Name,Email&per_page=${perPage}`);
    const body = await response.text();
    return { statusCode: response.status, body };
  } catch (error) {
    // BrokerError: the broker refused (401/403 key, 404 user, 409 re-authorization) or was unreachable.
    const status = error instanceof BrokerError && error.status > 0 ? 502 : 503;
    return { statusCode: status, body: JSON.stringify({ error: (error as Error).message }) };
  }
}
