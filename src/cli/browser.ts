/**
 * Opening the sign-in page in a browser: whether to try (the user's opt-outs and what the machine
 * can show), and the opener itself, injectable so that tests never launch a browser. The URL is
 * always printed too, so a browser that does not open costs nothing but a copy and paste.
 */

/** Opens `url` in a browser; rejects when it cannot. */
export type BrowserOpener = (url: string) => Promise<void>;

/** The real opener: the `open` package (loaded on first use: most commands never need it). */
export const openWithSystemBrowser: BrowserOpener = async (url) => {
  const { default: open } = await import('open');
  await open(url);
};

/** An environment flag is on unless unset, empty, `0` or `false`. */
function flagOn(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Why no browser should be opened here, or null to try. `--no-open`, ZTOKEN_NO_BROWSER=1, CI=1,
 * and Linux without a display (xdg-open would start a text browser that takes over the terminal).
 */
export function browserOptOut(
  flags: { open: boolean },
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | null {
  if (!flags.open) return '--no-open';
  if (flagOn(env.ZTOKEN_NO_BROWSER)) return 'ZTOKEN_NO_BROWSER is set';
  if (flagOn(env.CI)) return 'CI is set';
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return 'no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return null;
}
