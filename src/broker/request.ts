/**
 * Reading a broker request: the bearer key, and a size-limited JSON body turned into a selector.
 * Bad input gets an HttpError with a clear message that never echoes the body (it may hold a secret).
 */
import type { IncomingMessage } from 'node:http';
import type { BrokerSelector } from './access.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024;
const SELECTOR_HINT = 'send {"id": "7"} or {"userName": "alice@example.com"}';

/** The key of `Authorization: Bearer <key>`, or null when the header is missing. */
export function bearerKey(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${maxBytes} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!failed) reject(new HttpError(400, 'BAD_REQUEST', `The request body could not be read: ${error.message}`));
      failed = true;
    });
  });
}

export interface AccessTokenRequest {
  selector: BrokerSelector;
  /** The access token an API call was refused with (401 INVALID_TOKEN): refresh it, once. */
  rejectedAccessToken: string | undefined;
}

/** `{ "id": "7" }` or `{ "userName": "..." }`, and optionally `"rejectedAccessToken"`. */
export function parseAccessTokenRequest(body: Buffer): AccessTokenRequest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'MALFORMED_JSON', `The request body is not valid JSON: ${SELECTOR_HINT}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new HttpError(400, 'INVALID_SELECTOR', `The request body must be a JSON object: ${SELECTOR_HINT}`);
  }
  const fields = json as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => k !== 'id' && k !== 'userName' && k !== 'rejectedAccessToken');
  if (unknown.length > 0) {
    // Names only (cut short), never values: a caller may have sent a refresh token by mistake.
    const names = unknown.map((k) => JSON.stringify(k.slice(0, 30))).join(', ');
    throw new HttpError(400, 'INVALID_SELECTOR', `Unknown field ${names}: ${SELECTOR_HINT} (a broker never takes refresh or grant tokens)`);
  }
  const { id, userName, rejectedAccessToken } = fields;
  if (rejectedAccessToken !== undefined && (typeof rejectedAccessToken !== 'string' || rejectedAccessToken === '')) {
    throw new HttpError(400, 'INVALID_SELECTOR', 'rejectedAccessToken must be a non-empty string');
  }
  const rejected = rejectedAccessToken as string | undefined;
  if (id !== undefined && userName !== undefined) {
    throw new HttpError(400, 'INVALID_SELECTOR', `Give id or userName, not both: ${SELECTOR_HINT}`);
  }
  if (id !== undefined) {
    const text = typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? String(id) : id;
    if (typeof text !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(text)) {
      throw new HttpError(400, 'INVALID_SELECTOR', 'id must be a token id (1-64 letters, digits, _ . : -), e.g. "7"');
    }
    return { selector: { id: text }, rejectedAccessToken: rejected };
  }
  if (userName !== undefined) {
    if (typeof userName !== 'string' || userName.trim() === '' || userName.length > 320) {
      throw new HttpError(400, 'INVALID_SELECTOR', 'userName must be a non-empty string of at most 320 characters');
    }
    return { selector: { userName }, rejectedAccessToken: rejected };
  }
  throw new HttpError(400, 'INVALID_SELECTOR', `The body names no token: ${SELECTOR_HINT}`);
}
