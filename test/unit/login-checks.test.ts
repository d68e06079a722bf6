/**
 * The two rules `ztoken login` decides by, on their own: how an authorization endpoint's answer
 * is read (src/zoho/redirect-check.ts) and when a browser is not to be opened (src/cli/browser.ts).
 */
import { describe, expect, test } from 'vitest';
import { browserOptOut } from '../../src/cli/browser.js';
import { type AuthAnswer, readAuthAnswer } from '../../src/zoho/redirect-check.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';
const answer = (over: Partial<AuthAnswer>): AuthAnswer => ({ status: 200, location: null, contentType: 'text/html', body: '', ...over });

describe('readAuthAnswer', () => {
  test("Zoho's error page, a JSON error and a redirect carrying the error are refusals", () => {
    const page = '<html><head><title>Invalid Redirect Uri</title></head><body>Redirect URI passed does not match</body></html>';
    expect(readAuthAnswer(answer({ body: page }), REDIRECT)).toEqual({
      verdict: 'refused',
      detail: 'it answered HTTP 200 "Invalid Redirect Uri"',
    });
    expect(readAuthAnswer(answer({ status: 400, body: page }), REDIRECT).verdict).toBe('refused');
    const json = answer({ status: 400, contentType: 'application/json;charset=UTF-8', body: '{"error":"invalid_redirect_uri"}' });
    expect(readAuthAnswer(json, REDIRECT)).toEqual({ verdict: 'refused', detail: 'it answered HTTP 400 invalid_redirect_uri' });
    const bounced = answer({ status: 302, location: 'https://accounts.zoho.com/oauth/error?error=invalid_redirect_uri' });
    expect(readAuthAnswer(bounced, REDIRECT)).toEqual({ verdict: 'refused', detail: 'it redirected with error=invalid_redirect_uri' });
  });

  test('a redirect back to the redirect URI, a sign-in page or a redirect to one is acceptance', () => {
    const back = answer({ status: 302, location: `${REDIRECT}?code=1000.abc&state=s` });
    expect(readAuthAnswer(back, REDIRECT)).toEqual({ verdict: 'accepted', detail: 'it redirects back to this redirect URI' });
    const throttled = answer({ status: 302, location: `${REDIRECT}?error=access_denied&state=s` });
    expect(readAuthAnswer(throttled, REDIRECT).verdict).toBe('accepted');
    const signIn = answer({ status: 302, location: 'https://accounts.zoho.com/signin?servicename=AaaServer' });
    expect(readAuthAnswer(signIn, REDIRECT)).toEqual({
      verdict: 'accepted',
      detail: 'it sends the browser on to https://accounts.zoho.com/signin (a sign-in page)',
    });
    // A sign-in page may hold the phrase among its strings: only the title of a 2xx page counts.
    const strings = answer({ body: '<title>Zoho Accounts</title><script>var m={e1:"Invalid Redirect Uri"}</script>' });
    expect(readAuthAnswer(strings, REDIRECT)).toEqual({
      verdict: 'accepted',
      detail: 'it shows a page ("Zoho Accounts") that does not refuse the redirect URI',
    });
  });

  test('other failures are inconclusive, naming what was said', () => {
    const client = answer({
      status: 400,
      contentType: 'application/json',
      body: '{"error":"invalid_client","message":"Unknown client_id"}',
    });
    expect(readAuthAnswer(client, REDIRECT)).toEqual({ verdict: 'inconclusive', detail: 'it answered HTTP 400 (invalid_client)' });
    expect(readAuthAnswer(answer({ status: 503, body: 'busy' }), REDIRECT)).toEqual({
      verdict: 'inconclusive',
      detail: 'it answered HTTP 503',
    });
    expect(readAuthAnswer(answer({ status: 302 }), REDIRECT)).toEqual({ verdict: 'inconclusive', detail: 'it answered HTTP 302' });
  });
});

describe('browserOptOut', () => {
  test('--no-open, ZTOKEN_NO_BROWSER, CI and a Linux without a display opt out; a desktop does not', () => {
    const desktop = { DISPLAY: ':0' };
    expect(browserOptOut({ open: false }, desktop, 'linux')).toBe('--no-open');
    expect(browserOptOut({ open: true }, { ...desktop, ZTOKEN_NO_BROWSER: '1' }, 'linux')).toBe('ZTOKEN_NO_BROWSER is set');
    expect(browserOptOut({ open: true }, { ...desktop, CI: 'true' }, 'darwin')).toBe('CI is set');
    expect(browserOptOut({ open: true }, {}, 'linux')).toBe('no display (DISPLAY and WAYLAND_DISPLAY are unset)');
    expect(browserOptOut({ open: true }, { WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBeNull();
    expect(browserOptOut({ open: true }, desktop, 'linux')).toBeNull();
    expect(browserOptOut({ open: true }, {}, 'darwin')).toBeNull();
    for (const off of ['', '0', 'false', 'FALSE']) {
      expect(browserOptOut({ open: true }, { ZTOKEN_NO_BROWSER: off, CI: off }, 'win32')).toBeNull();
    }
  });
});
