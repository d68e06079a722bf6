/**
 * A small, strict `multipart/form-data` parser for text fields (RFC 7578): enough for the
 * parameters Zoho's token endpoint accepts. Works on bytes, so UTF-8 values survive.
 */

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** The boundary of a multipart content type, or null. */
export function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

function fieldName(headers: string): string | null {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const match = /;\s*name=(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/i.exec(line.slice(colon + 1));
    if (match) return (match[1] ?? match[2] ?? '').replace(/\\(.)/g, '$1');
  }
  return null;
}

/**
 * Parses a multipart body into its fields (the last value of a repeated name wins).
 * Throws on a malformed body.
 */
export function parseMultipart(body: Buffer, boundary: string): Record<string, string> {
  const out: Record<string, string> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('multipart body has no boundary');
  pos += delimiter.length;
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return out; // "--": closing delimiter
    // Transport padding (spaces or tabs) may follow a delimiter, then CRLF.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw new Error('multipart delimiter not followed by CRLF');
    pos += 2;
    const headerEnd = body.indexOf(HEADER_END, pos);
    if (headerEnd < 0) throw new Error('multipart part has no end of headers');
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const contentStart = headerEnd + HEADER_END.length;
    const end = body.indexOf(nextDelimiter, contentStart);
    if (end < 0) throw new Error('multipart part is not closed');
    const name = fieldName(headers);
    if (name !== null) out[name] = body.subarray(contentStart, end).toString('utf8');
    pos = end + nextDelimiter.length;
  }
}
