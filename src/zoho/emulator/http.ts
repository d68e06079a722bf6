/** HTTP plumbing of the emulator: bodies, parameters (query, urlencoded, multipart), answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { boundaryOf, parseMultipart } from './multipart.js';

/** Largest request body the emulator reads. */
export const MAX_BODY_BYTES = 1_048_576;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? body.error ?? status));
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop keeping bytes; the rest is drained so the 413 answer can still be written.
        chunks.length = 0;
        reject(new HttpError(413, { error: 'request_too_large', message: `bodies are limited to ${MAX_BODY_BYTES} bytes` }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The request's parameters: the query string, overlaid with an
 * `application/x-www-form-urlencoded` or `multipart/form-data` body (other bodies are ignored).
 */
export async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const params: Record<string, string> = Object.create(null);
  for (const [key, value] of url.searchParams) params[key] = value;
  if (req.method === 'GET' || req.method === 'HEAD') return params;
  const body = await readBody(req);
  if (body.length === 0) return params;
  const contentType = req.headers['content-type'] ?? '';
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = value;
  } else if (mediaType === 'multipart/form-data') {
    const boundary = boundaryOf(contentType);
    if (!boundary) throw new HttpError(400, { error: 'invalid_request', message: 'multipart body without a boundary' });
    let fields: Record<string, string>;
    try {
      fields = parseMultipart(body, boundary);
    } catch (err) {
      throw new HttpError(400, { error: 'invalid_request', message: `malformed multipart body: ${(err as Error).message}` });
    }
    Object.assign(params, fields);
  }
  return params;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** A Zoho CRM error answer: `{"code","details","message","status":"error"}`. */
export function sendCrmError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): void {
  sendJson(res, status, { code, details, message, status: 'error' });
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0, 'cache-control': 'no-store' });
  res.end();
}
