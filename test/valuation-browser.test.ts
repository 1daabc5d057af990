import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, screenshots, useBrowser } from './support/browser.js';
import { ADMIN_KEY, adminCall, useServer } from './support/served.js';

/**
 * The console's valuation page in headless Chromium against a real server process: the report by warehouse and
 * by category, as of now and as of a day before anything arrived, and its CSV download, checked against the API.
 */
describe.skipIf(!HAS_CHROMIUM)("the admin console's valuation page in headless Chromium", () => {
  const ctx = useServer('pglite');
  const chromium = useBrowser();
  const contexts: BrowserContext[] = [];
  const api = (method: string, path: string, body?: unknown) => adminCall(ctx.server, method, path, body);

  beforeAll(async () => {
    await api('POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    await api('POST', '/v1/warehouses', { code: 'BER', name: 'Berlin' });
    await api('POST', '/v1/variants', { sku: 'TEE-M', product: { title: 'Tee', category: 'apparel/tees' } });
    await api('POST', '/v1/variants', { sku: 'MUG', product: { title: 'Mug' } });
    await api('POST', '/v1/stock/receive', { sku: 'TEE-M', warehouse: 'AMS', qty: 10, unit_cost: 450 });
    await api('POST', '/v1/stock/receive', { sku: 'TEE-M', warehouse: 'AMS', qty: 10, unit_cost: 550 });
    await api('POST', '/v1/stock/receive', { sku: 'MUG', warehouse: 'BER', qty: 3, unit_cost: 1999 });
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  const signedIn = async (path: string): Promise<Page> => {
    const context = await chromium.browser.newContext({ locale: 'en-US', acceptDownloads: true });
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${ctx.server.url}${path}`);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };
  const row = (page: Page, key: string) => page.locator(`tr[data-key="${key}"]`);

  it('shows what stock is worth by warehouse and category, as of now and of a past day, and downloads it', async () => {
    const page = await signedIn('/admin/valuation');
    await page.getByRole('link', { name: 'Valuation' }).waitFor();
    // 10 x 4.50 + 10 x 5.50 = 100.00 for 20 (5.00 each); 3 x 19.99 = 59.97
    await expect.poll(() => row(page, 'AMS').innerText()).toMatch(/AMS\s+1\s+20\s+0\s+\$5\.00\s+\$100\.00/);
    expect(await row(page, 'BER').innerText()).toMatch(/BER\s+1\s+3\s+0\s+\$19\.99\s+\$59\.97/);
    expect(await row(page, 'total').innerText()).toMatch(/Total\s+2\s+23\s+0\s+\$6\.96\s+\$159\.97/);
    const report = (await api('GET', '/v1/valuation')) as { total: { value: number } };
    expect(report.total.value).toBe(15997);
    await screenshots(page, 'admin-valuation');

    await page.getByLabel('Group by').selectOption('category');
    await expect.poll(() => row(page, 'apparel/tees').innerText()).toMatch(/apparel\/tees\s+1\s+20\s+0\s+\$5\.00/);
    expect(await page.locator('tbody tr').last().innerText()).toMatch(/none\s+1\s+3/);
    expect(page.url()).toMatch(/\/admin\/valuation\?group_by=category$/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toBe(
      'sku,warehouse,category,supplier,on_hand,uncosted_units,currency,average_cost,value\n' +
        'TEE-M,AMS,apparel/tees,,20,0,USD,500,10000\nMUG,BER,,,3,0,USD,1999,5997\n',
    );

    await page.locator('input[name="as_of"]').fill('2020-01-01');
    await expect.poll(() => row(page, 'total').innerText()).toMatch(/Total\s+0\s+0\s+0\s+—\s+\$0\.00/);
    expect(await page.locator('.problem').allTextContents()).toEqual([]);
  });
});
