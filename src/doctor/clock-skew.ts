/**
 * Clock skew: expiry times are local epoch ms computed from Zoho's `expires_in`, so a clock far
 * off Zoho's makes tokens look fresh when they are not (or the reverse). One cheap GET to the
 * accounts server; its `Date` header (second resolution) is compared with the local clock.
 */
import type { Finding } from './findings.js';

/** Skew above this is worth a warning; above SKEW_ERROR_MS tokens are used expired or refreshed early. */
export const SKEW_WARNING_MS = 30_000;
export const SKEW_ERROR_MS = 5 * 60_000;

export async function checkClockSkew(accountsUrl: string, now: () => number = Date.now): Promise<Finding> {
  const check = 'clock';
  let date: string | null;
  const before = now();
  try {
    const res = await fetch(new URL('/oauth/v2/token', accountsUrl), {
      method: 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
    });
    await res.body?.cancel();
    date = res.headers.get('date');
  } catch (error) {
    return {
      check,
      level: 'warning',
      message: `could not reach ${accountsUrl} to compare clocks: ${(error as Error).message}`,
      fix: 'check the network, or give the accounts server with --dc CODE or --accounts-url URL',
    };
  }
  const theirs = date ? Date.parse(date) : Number.NaN;
  if (Number.isNaN(theirs)) return { check, level: 'warning', message: `${accountsUrl} answered without a usable Date header` };
  const local = (before + now()) / 2;
  const skew = Math.round(local - theirs);
  const seconds = Math.round(Math.abs(skew) / 1000);
  const way = skew > 0 ? 'ahead of' : 'behind';
  if (Math.abs(skew) <= SKEW_WARNING_MS + 1000)
    return { check, level: 'ok', message: `the local clock is within ${seconds} s of ${accountsUrl}` };
  return {
    check,
    level: Math.abs(skew) > SKEW_ERROR_MS ? 'error' : 'warning',
    message: `the local clock is ${seconds} s ${way} ${accountsUrl}: token expiry times are computed with it, so tokens would be used expired or refreshed too early`,
    fix: 'sudo timedatectl set-ntp true',
  };
}
