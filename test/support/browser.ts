import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** Debian's chromium: .ci/run installs it; a developer without it skips the browser suites, CI never does. */
export const CHROMIUM = '/usr/bin/chromium';
/** Whether the browser suites run here. */
export const HAS_CHROMIUM = existsSync(CHROMIUM) || process.env.CI === 'true';
/** Screenshots of the screens the browser tests go through (gitignored), kept as test artifacts. */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

/** The sizes screenshots are taken at: a laptop and a phone. */
export const VIEWPORTS = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;

/** One headless Chromium for a test file, closed after it. */
export function useBrowser(): { browser: Browser } {
  const ctx = {} as { browser: Browser };
  beforeAll(async () => {
    ctx.browser = await chromium.launch({
      executablePath: CHROMIUM,
      // as root in a sandbox, with no network: no sandbox, and none of Chromium's own calls home
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await ctx.browser.close();
  });
  return ctx;
}

/** Screenshots of the page as it is, at desktop and at phone width (the page is left at desktop width). */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}
