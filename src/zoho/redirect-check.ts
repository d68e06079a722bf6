/**
 * Does the accounts server accept this redirect URI for this client? Asked before a login waits
 * for the user: `GET {accounts}/oauth/v2/auth?...` without following redirects, and Zoho's answer
 * read here, in the one place that knows its shapes:
 *
 * - an unregistered redirect URI: an error page titled "Invalid Redirect Uri" (Zoho; the
 *   emulator answers the same page with HTTP 400), or `{"error":"invalid_redirect_uri"}`;
 * - accepted: a redirect back to the redirect URI (the emulator consents at once), or Zoho's
 *   sign-in page (a page, or a redirect to it) that says nothing against the redirect URI.
 *
 * Anything else (no answer, an unknown error) is inconclusive: the caller warns and goes on,
 * since a login must never fail on a guess.
 */

export type RedirectCheck =
  | { verdict: 'accepted'; detail: string }
  | { verdict: 'refused'; detail: string }
  | { verdict: 'inconclusive'; detail: string };

export interface AuthAnswer {
  status: number;
  /** The Location header, if any. */
  location: string | null;
  contentType: string;
  /** The start of the body (text), '' when there is none. */
  body: string;
}

/** "Invalid Redirect Uri", "invalid_redirect_uri", "Invalid redirect URL". */
const INVALID_REDIRECT = /invalid[\s_-]*redirect[\s_-]*ur[il]/i;
const INVALID_CLIENT = /invalid[\s_-]*client/i;
/** How much of a page is read: Zoho's error page is small; a sign-in page need not be read whole. */
const MAX_BODY_CHARS = 64 * 1024;

function jsonError(answer: AuthAnswer): string | undefined {
  if (!/json/i.test(answer.contentType)) return undefined;
  try {
    const parsed: unknown = JSON.parse(answer.body);
    const error = (parsed as { error?: unknown } | null)?.error;
    return typeof error === 'string' ? error : undefined;
  } catch {
    return undefined;
  }
}

/** The page's <title>, if it is HTML. */
function htmlTitle(answer: AuthAnswer): string | undefined {
  return /<title[^>]*>([^<]*)<\/title>/i.exec(answer.body)?.[1]?.trim();
}

function sameEndpoint(location: URL, redirectUri: URL): boolean {
  return location.origin === redirectUri.origin && location.pathname === redirectUri.pathname;
}

/** Reads the authorization endpoint's answer to a request carrying `redirectUri`. */
export function readAuthAnswer(answer: AuthAnswer, redirectUri: string): RedirectCheck {
  const error = jsonError(answer);
  const title = htmlTitle(answer);
  // A sign-in page may carry the phrase among its strings: a 2xx page counts only by its title.
  const failed = answer.status >= 400;
  if (error === 'invalid_redirect_uri' || (title && INVALID_REDIRECT.test(title)) || (failed && INVALID_REDIRECT.test(answer.body))) {
    return { verdict: 'refused', detail: `it answered HTTP ${answer.status}${title ? ` "${title}"` : error ? ` ${error}` : ''}` };
  }
  if (answer.status >= 300 && answer.status < 400 && answer.location) {
    let target: URL;
    try {
      target = new URL(answer.location, 'http://relative.invalid');
    } catch {
      return { verdict: 'inconclusive', detail: `it redirected to an unreadable location (HTTP ${answer.status})` };
    }
    const targetError = target.searchParams.get('error');
    if (targetError === 'invalid_redirect_uri') return { verdict: 'refused', detail: `it redirected with error=${targetError}` };
    if (sameEndpoint(target, new URL(redirectUri))) return { verdict: 'accepted', detail: 'it redirects back to this redirect URI' };
    return { verdict: 'accepted', detail: `it sends the browser on to ${target.origin}${target.pathname} (a sign-in page)` };
  }
  if (answer.status >= 200 && answer.status < 300) {
    return { verdict: 'accepted', detail: `it shows a page${title ? ` ("${title}")` : ''} that does not refuse the redirect URI` };
  }
  const named = error ?? (title || (INVALID_CLIENT.test(answer.body) ? 'invalid client' : undefined));
  return { verdict: 'inconclusive', detail: `it answered HTTP ${answer.status}${named ? ` (${named})` : ''}` };
}

/** Asks the authorization endpoint (no redirect followed) and reads its answer; never throws. */
export async function checkRedirectUri(
  authUrl: string,
  redirectUri: string,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<RedirectCheck> {
  const fetchImpl = options.fetch ?? fetch;
  try {
    const res = await fetchImpl(authUrl, {
      redirect: 'manual',
      headers: { accept: 'text/html,application/json;q=0.9,*/*;q=0.8' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const contentType = res.headers.get('content-type') ?? '';
    const readable = /text|json|html/i.test(contentType);
    const body = readable ? (await res.text()).slice(0, MAX_BODY_CHARS) : '';
    if (!readable) await res.body?.cancel();
    return readAuthAnswer({ status: res.status, location: res.headers.get('location'), contentType, body }, redirectUri);
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    const why =
      typeof cause === 'string' ? cause : (error as Error).name === 'TimeoutError' ? 'no answer in time' : (error as Error).message;
    return { verdict: 'inconclusive', detail: `it could not be asked (${why})` };
  }
}
