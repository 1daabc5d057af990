import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, useServer } from './support/served.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

// Debian's chromium: .ci/run installs it; a developer without it skips this suite, CI never does
describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('the demo storefront in headless Chromium', () => {
  const ctx = useServer('pglite');
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
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
    await browser.close();
  });

  const api = (method: string, path: string, body?: unknown) => adminCall(ctx.server, method, path, body);
  const reserve = async (qty: number): Promise<string> =>
    String(
      (
        await api('POST', '/v1/reservations', {
          order_ref: `browser-${qty}-${Date.now()}`,
          lines: [{ sku: 'WIDGET-TEE', qty }],
        })
      ).id,
    );

  /** Waits until the page shows this label, and keeps a screenshot of it. */
  const shows = async (page: Page, label: string, shot: string): Promise<void> => {
    // evaluated in the page (this project's TypeScript has no DOM types)
    await page.waitForFunction(
      `document.getElementById('stock')?.textContent === ${JSON.stringify(label)}`,
      undefined,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: join(ARTIFACTS, `storefront-${shot}.png`) });
  };

  it('shows the live label and disables the button when sold out, with no reload', async () => {
    await api('POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    await api('POST', '/v1/variants', { sku: 'WIDGET-TEE', product: { title: 'Widget tee' }, low_stock_threshold: 2 });
    await api('POST', '/v1/stock/receive', { sku: 'WIDGET-TEE', warehouse: 'AMS', qty: 5 });

    const page = await browser.newPage();
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.goto(`${ctx.server.url}/demo/storefront?sku=WIDGET-TEE`);
    // a mark that a reload would wipe out
    await page.evaluate('window.stillHere = true');
    const buy = page.locator('#buy');

    await shows(page, 'In stock', '1-in-stock');
    expect(await buy.isDisabled()).toBe(false);

    await reserve(3);
    await shows(page, 'Only 2 left', '2-only-2-left');
    expect(await buy.isDisabled()).toBe(false);

    const last = await reserve(2);
    await shows(page, 'Out of stock', '3-out-of-stock');
    expect(await buy.isDisabled()).toBe(true);

    await api('POST', `/v1/reservations/${last}/cancel`);
    await shows(page, 'Only 2 left', '4-back-in-stock');
    expect(await buy.isDisabled()).toBe(false);

    expect(navigations).toBe(1);
    expect(await page.evaluate('window.stillHere')).toBe(true);
    await page.close();
  });

  it('says a SKU it cannot follow is not available, rather than checking forever', async () => {
    const page = await browser.newPage();
    await page.goto(`${ctx.server.url}/demo/storefront?sku=NO-SUCH-TEE`);
    await shows(page, 'Not available', '5-unknown-sku');
    await page.close();
  });
});
