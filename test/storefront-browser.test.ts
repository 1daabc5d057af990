import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, HAS_CHROMIUM, screenshots, useBrowser } from './support/browser.js';
import { adminCall, useServer } from './support/served.js';

describe.skipIf(!HAS_CHROMIUM)('the demo storefront in headless Chromium', () => {
  const ctx = useServer('pglite');
  const chromium = useBrowser();

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

    const page = await chromium.browser.newPage();
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
    const page = await chromium.browser.newPage();
    await page.goto(`${ctx.server.url}/demo/storefront?sku=NO-SUCH-TEE`);
    await shows(page, 'Not available', '5-unknown-sku');
    await page.close();
  });

  it('two shoppers press "Add to cart" for the last unit at once: exactly one gets it, pays, and the other cannot', async () => {
    await api('POST', '/v1/warehouses', { code: 'RACE', name: 'Race' });
    await api('POST', '/v1/variants', { sku: 'LAST-TEE', product: { title: 'Last tee' }, low_stock_threshold: 2 });
    await api('POST', '/v1/stock/receive', { sku: 'LAST-TEE', warehouse: 'RACE', qty: 1 });
    const checkoutKey = String((await api('POST', '/v1/keys', { name: 'storefront', scopes: ['checkout'] })).key);

    // two browser windows that share nothing, each with the page open and the checkout key typed in
    const shoppers = await Promise.all(
      [0, 1].map(async () => {
        const context = await chromium.browser.newContext();
        const page = await context.newPage();
        await page.goto(`${ctx.server.url}/demo/storefront?sku=LAST-TEE`);
        await page.locator('#checkout-key').fill(checkoutKey);
        await page.locator('#stock').getByText('Only 1 left').waitFor();
        return { context, page };
      }),
    );
    const [first, second] = shoppers.map((shopper) => shopper.page) as [Page, Page];
    await Promise.all([first.locator('#buy').click(), second.locator('#buy').click()]);

    const outcome = async (page: Page) => {
      await page.waitForFunction(`/^(Reserved|Sorry)/.test(document.getElementById('message').textContent)`);
      return (await page.locator('#message').textContent()) ?? '';
    };
    const said = await Promise.all([outcome(first), outcome(second)]);
    expect(said.filter((text) => text.startsWith('Reserved')).length).toBe(1);
    expect(said.filter((text) => text === 'Sorry: someone else got the last one.').length).toBe(1);
    const [winner, loser] = said[0].startsWith('Reserved') ? [first, second] : [second, first];
    // the holder sees the time left; the other's button is disabled as the live label turns to sold out
    expect(await winner.locator('#countdown').textContent()).toMatch(/^(10:00|9:[0-5]\d)$/);
    expect(await winner.locator('#buy').isHidden()).toBe(true);
    await loser.locator('#stock').getByText('Out of stock').waitFor();
    expect(await loser.locator('#buy').isDisabled()).toBe(true);
    await screenshots(winner, 'storefront-6-race-winner');
    await screenshots(loser, 'storefront-7-race-loser');

    // the winner changes their mind: the unit is back, and the other shopper buys and pays for it
    await winner.locator('#cancel').click();
    await winner.locator('#message').getByText('Cancelled: the unit is back on sale.').waitFor();
    await loser.locator('#stock').getByText('Only 1 left').waitFor();
    await loser.locator('#buy').click();
    await loser.locator('#message').getByText('Reserved: pay before the time runs out.').waitFor();
    await loser.locator('#pay').click();
    await loser
      .locator('#message')
      .getByText(/^Paid: order demo-\w+ is yours\.$/)
      .waitFor();
    await screenshots(loser, 'storefront-8-paid');

    const held = (await api('GET', '/v1/reservations?sku=LAST-TEE')) as { items: { status: string }[] };
    expect(held.items.map((reservation) => reservation.status).sort()).toEqual(['committed', 'released']);
    const stock = (await api('GET', '/v1/stock/LAST-TEE')) as { total: { on_hand: number; reserved: number } };
    expect(stock.total).toMatchObject({ on_hand: 1, reserved: 1, available: 0 });
    for (const shopper of shoppers) await shopper.context.close();
  });
});
