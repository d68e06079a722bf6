/**
 * Where the broker listens, and the rule that a non-loopback address needs TLS or an explicit
 * `--insecure-http`: access tokens and broker keys must not cross a network in clear text by default.
 */
import { isIP } from 'node:net';
import { ZTokenError } from '../errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:8787';

/** `127.0.0.1:8787`, `[::1]:8787`, `0.0.0.0:443`, `localhost:8787`, or a bare port (loopback). */
export function parseListen(text: string): ListenAddress {
  const value = text.trim();
  const bad = () =>
    new ZTokenError(
      'CONFIG',
      'INVALID_LISTEN',
      `--listen ${JSON.stringify(value.slice(0, 80))} must be HOST:PORT, e.g. 127.0.0.1:8787 or [::1]:8787`,
    );
  let host: string;
  let portText: string;
  if (/^\d+$/.test(value)) {
    host = '127.0.0.1';
    portText = value;
  } else {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d+)$/.exec(value);
    if (!match) throw bad();
    host = match[1] ?? match[2] ?? '';
    portText = match[3] ?? '';
    if (match[1] !== undefined && isIP(host) !== 6) throw bad();
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad();
  return { host, port };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}

/**
 * Refuses a non-loopback address in plain HTTP unless the operator said `--insecure-http`.
 * Returns the warning to print at start, if any.
 */
export function checkTransport(address: ListenAddress, tls: boolean, insecureHttp: boolean): string | null {
  if (tls || isLoopback(address.host)) return null;
  if (!insecureHttp) {
    throw new ZTokenError(
      'CONFIG',
      'INSECURE_LISTEN',
      `Refusing to serve access tokens over plain HTTP on ${address.host}, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http if a TLS proxy in front of the broker is the only way in`,
    );
  }
  return `serving plain HTTP on ${address.host}, a non-loopback address (--insecure-http): access tokens and broker keys cross the network unencrypted unless a TLS proxy is the only way in`;
}
