/**
 * The polling half of Zoho's device flow (ZOHO.md "Other ways to get tokens"): ask for a user
 * code, show it, then poll every `interval` until the user approves. `slow_down` adds 5 s to the
 * interval, `other_dc` moves the polling to the accounts server of the user's DC, and the flow
 * stops with a DeviceFlowError on `access_denied` or when `expires_in` has passed. Waiting goes
 * through an injectable `sleep`, so tests drive it with the emulator's clock.
 */
import { DeviceFlowError, ZohoOAuthError } from '../errors.js';
import type { AccountsClient, DeviceCode, TokenGrant } from '../zoho/accounts.js';
import { type DataCenter, parseDataCenter } from '../zoho/datacenter.js';

/** What the user must see: where to go and which code to type. */
export interface DevicePrompt {
  userCode: string;
  verificationUrl: string;
  verificationUriComplete?: string;
  expiresInMs: number;
}

export interface DeviceFlowInput {
  scopes: string[];
  onPrompt: (prompt: DevicePrompt) => void | Promise<void>;
  signal?: AbortSignal;
  /** Waits `ms` (default: a real timer). Tests pass one that advances the emulator clock. */
  sleep?: (ms: number) => Promise<void>;
}

export interface DeviceFlowDeps {
  /** The accounts client of the configured DC, and of any DC by name (for other_dc). */
  accounts: AccountsClient;
  accountsFor: (dataCenter: DataCenter) => AccountsClient;
  dataCenter: DataCenter;
}

/** Zoho asks for 5 s more between polls after each `slow_down`. */
export const SLOW_DOWN_STEP_MS = 5_000;

function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs the flow to its end: the tokens and the DC they belong to. */
export async function runDeviceFlow(deps: DeviceFlowDeps, input: DeviceFlowInput): Promise<{ grant: TokenGrant; dataCenter: DataCenter }> {
  const sleep = input.sleep ?? ((ms: number) => realSleep(ms, input.signal));
  const code: DeviceCode = await deps.accounts.requestDeviceCode(input.scopes);
  await input.onPrompt({
    userCode: code.userCode,
    verificationUrl: code.verificationUrl,
    verificationUriComplete: code.verificationUriComplete,
    expiresInMs: code.expiresInMs,
  });
  let accounts = deps.accounts;
  let dataCenter = deps.dataCenter;
  let intervalMs = code.intervalMs;
  // Time is counted in waits, so an injected sleep (an emulated clock) decides the expiry too.
  let waitedMs = 0;
  for (;;) {
    if (input.signal?.aborted) throw new DeviceFlowError('ABORTED', 'The device flow was aborted before the user approved it');
    if (waitedMs >= code.expiresInMs) throw expired(code);
    await sleep(intervalMs);
    waitedMs += intervalMs;
    if (input.signal?.aborted) throw new DeviceFlowError('ABORTED', 'The device flow was aborted before the user approved it');
    let poll: Awaited<ReturnType<AccountsClient['pollDeviceToken']>>;
    try {
      poll = await accounts.pollDeviceToken(code.deviceCode);
    } catch (error) {
      if (error instanceof ZohoOAuthError && error.zohoError === 'access_denied') {
        throw new DeviceFlowError('DENIED', `The user denied the device login (user code ${code.userCode}); nothing was stored`, {
          cause: error,
        });
      }
      if (error instanceof ZohoOAuthError && error.zohoError === 'expired') throw expired(code, error);
      throw error;
    }
    if (poll.status === 'granted') return { grant: poll.grant, dataCenter };
    if (poll.status === 'slow_down') intervalMs += SLOW_DOWN_STEP_MS;
    else if (poll.status === 'other_dc') {
      // The user's account lives in another DC: the same device code is polled there from now on.
      dataCenter = parseDataCenter(poll.userLocation);
      accounts = deps.accountsFor(dataCenter);
    }
  }
}

function expired(code: DeviceCode, cause?: unknown): DeviceFlowError {
  return new DeviceFlowError(
    'EXPIRED',
    `Nobody approved user code ${code.userCode} within ${Math.round(code.expiresInMs / 1000)} s, so it expired; run the device login again`,
    cause === undefined ? undefined : { cause },
  );
}
