import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** axe-core's source, injected into the page under audit (a dev dependency: CI installs it with the rest). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The rules an audit runs: WCAG 2.1 A and AA (contrast among them) and axe's best practices. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
/** What fails an audit. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/** One rule the page breaks, and where. */
export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function accessibilityViolations(page: Page): Promise<Violation[]> {
  // evaluated through the DevTools protocol: the console's Content-Security-Policy refuses inline scripts
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(`${AXE_SOURCE};void 0`);
  // a string, run in the page (this file is compiled without the DOM's types)
  const options = JSON.stringify({ runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations'] });
  const found = await page.evaluate<Violation[]>(
    `axe.run(document, ${options}).then((result) => result.violations.map((violation) => ({
       id: violation.id,
       impact: violation.impact,
       help: violation.help,
       targets: violation.nodes.map((node) => node.target.join(' ')),
     })))`,
  );
  return found.filter((violation) => FAILING_IMPACTS.has(violation.impact ?? ''));
}

/**
 * Screenshots of the page as it is, at desktop and at phone width (the page is left at desktop width), each width
 * audited by axe-core first: a serious or critical violation (contrast, a field without a label, a button without
 * a name...) fails the test, naming the rule and the elements.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${size}.png`), fullPage: true });
    const violations = await accessibilityViolations(page);
    if (violations.length > 0)
      throw new Error(`${name} at ${size} width breaks accessibility rules:\n${JSON.stringify(violations, null, 2)}`);
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}
