import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, screenshots, useBrowser } from './support/browser.js';
import { ADMIN_KEY, adminCall, useServer } from './support/served.js';

/**
 * The console's kits page in headless Chromium against a real server process: a kit defined through its form is
 * read back through the API, and what the page shows follows a sale of a component.
 */
describe.skipIf(!HAS_CHROMIUM)('the kits page of the admin console in headless Chromium', () => {
  const ctx = useServer('pglite');
  const chromium = useBrowser();
  const contexts: BrowserContext[] = [];
  const api = (method: string, path: string, body?: unknown) => adminCall(ctx.server, method, path, body);

  beforeAll(async () => {
    await api('POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    for (const sku of ['MUG', 'COFFEE-250', 'GIFT-BOX'])
      await api('POST', '/v1/variants', { sku, product: { title: sku }, low_stock_threshold: 2 });
    await api('POST', '/v1/stock/receive', { sku: 'MUG', warehouse: 'AMS', qty: 9 });
    await api('POST', '/v1/stock/receive', { sku: 'COFFEE-250', warehouse: 'AMS', qty: 6 });
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  const signedIn = async (path: string): Promise<Page> => {
    const context = await chromium.browser.newContext();
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${ctx.server.url}${path}`);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };

  it('defines a kit through the form and shows what its components make, following a component sale', async () => {
    const page = await signedIn('/admin/kits');
    await page.getByRole('heading', { name: 'Kits', level: 1 }).waitFor();
    await page.getByText('No kits yet.').waitFor();
    await page.getByLabel('Kit SKU').fill('GIFT-BOX');
    await page.getByLabel('Components').fill('MUG:2, COFFEE-250:1');
    await page.getByRole('button', { name: 'Define' }).click();
    await page.getByRole('status').filter({ hasText: 'GIFT-BOX is a kit' }).waitFor();
    expect(await api('GET', '/v1/kits/GIFT-BOX')).toEqual({
      sku: 'GIFT-BOX',
      components: [
        { sku: 'COFFEE-250', qty: 1 },
        { sku: 'MUG', qty: 2 },
      ],
    });
    const row = page.locator('#kits tbody tr', { hasText: 'GIFT-BOX' });
    await expect.poll(() => row.locator('td.num').textContent()).toBe('4');
    await screenshots(page, 'admin-kits');
    // three mugs sold: 6 left make 3 boxes
    await api('POST', '/v1/reservations', { order_ref: 'mugs-1', lines: [{ sku: 'MUG', qty: 3 }] });
    await page.reload();
    await expect.poll(() => row.locator('td.num').textContent()).toBe('3');
    // a bad line is refused on the page, nothing is sent
    await page.getByLabel('Kit SKU').fill('GIFT-BOX');
    await page.getByLabel('Components').fill('MUG two');
    await page.getByRole('button', { name: 'Define' }).click();
    await page.locator('.problem').filter({ hasText: 'SKU:QTY' }).waitFor();
  });
});
