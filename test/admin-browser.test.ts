import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, screenshots, useBrowser, HAS_CHROMIUM, VIEWPORTS } from './support/browser.js';
import { ADMIN_KEY, adminCall, useServer } from './support/served.js';

/**
 * The admin console at /admin in headless Chromium against a real server process: signing in, the variant page's
 * forms and ledger, purchasing, reservations, import and health, each screen kept as a screenshot at desktop and
 * phone width (test-artifacts/admin-*.png). The server's own answers are read back through the API after each
 * step, so the page is checked against what really happened.
 */
describe.skipIf(!HAS_CHROMIUM)('the admin console in headless Chromium', () => {
  // one try per delivery, soon: the alerts page has a dead letter to retry within the test
  const ctx = useServer('pglite', { STOCKROOM_DELIVERY_MAX_ATTEMPTS: '1', STOCKROOM_DELIVERY_BACKOFF_MS: '50' });
  const chromium = useBrowser();
  const contexts: BrowserContext[] = [];

  const api = (method: string, path: string, body?: unknown) => adminCall(ctx.server, method, path, body);
  const onHand = async (sku: string, warehouse: string): Promise<number> => {
    const stock = (await api('GET', `/v1/stock/${sku}`)) as { warehouses: { warehouse: string; on_hand: number }[] };
    return stock.warehouses.find((level) => level.warehouse === warehouse)?.on_hand ?? 0;
  };
  const ledgerSize = async (sku: string): Promise<number> =>
    ((await api('GET', `/v1/movements?sku=${sku}&limit=500`)) as { items: unknown[] }).items.length;

  beforeAll(async () => {
    await api('POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    await api('POST', '/v1/warehouses', { code: 'BER', name: 'Berlin' });
    await api('POST', '/v1/warehouses/AMS/bins', { code: 'A-01-01' });
    await api('POST', '/v1/suppliers', { code: 'NORD', name: 'Nordtex', lead_time_days: 7, warehouse: 'AMS' });
    await api('POST', '/v1/variants', {
      sku: 'TEE-M',
      product: { title: 'Crew tee' },
      low_stock_threshold: 3,
      reorder_point: 5,
      reorder_qty: 20,
      supplier: 'NORD',
    });
    await api('POST', '/v1/variants', { sku: 'CAP', product: { title: 'Cap' } });
    await api('POST', '/v1/stock/receive', { sku: 'TEE-M', warehouse: 'AMS', qty: 10, bin: 'A-01-01' });
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  /** A tab in a browser context of its own (no session storage shared), closed after the test. */
  const freshPage = async (): Promise<Page> => {
    const context = await chromium.browser.newContext();
    // a step that cannot happen fails within the test's time, with its own message
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    return context.newPage();
  };
  /** A fresh browser tab signed in through the form, as a person would. */
  const signedIn = async (path = '/admin'): Promise<Page> => {
    const page = await freshPage();
    await page.goto(`${ctx.server.url}${path}`);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };
  /** No refusal is shown where none is expected (a page that read something wrong says so in red). */
  const noProblems = async (page: Page): Promise<void> => {
    expect(await page.locator('.problem').allTextContents()).toEqual([]);
  };
  const cell = (page: Page, warehouse: string, column: string) =>
    page.locator(`#per-warehouse tr[data-warehouse="${warehouse}"] td[data-column="${column}"]`);

  it('audits each screen with axe-core, which fails text below the contrast WCAG AA asks for and a field without a label', async () => {
    // the audit every screenshot runs (test/support/browser.ts), on a page made to break it
    const page = await freshPage();
    await page.setContent(
      '<main><h1>Audit</h1><p style="color:#aaa;background:#fff">faint</p><input name="unlabelled"></main>',
    );
    const broken = (await accessibilityViolations(page)).map((violation) => violation.id);
    expect(broken).toContain('color-contrast');
    expect(broken).toContain('label');
  });

  it('signs in with a key kept in session storage, never in the URL, and refuses a wrong one', async () => {
    const page = await freshPage();
    const asked: string[] = [];
    page.on('request', (request) => asked.push(request.url()));
    // `/` points to the console
    await page.goto(`${ctx.server.url}/`);
    await page.waitForURL(`${ctx.server.url}/admin`);
    await page.getByLabel('API key').waitFor();
    await screenshots(page, 'admin-0-sign-in');

    await page.getByLabel('API key').fill('sr_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unauthorized' }).waitFor();

    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Stock' }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("stockroom.admin.key")')).toBe(ADMIN_KEY);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(asked.filter((url) => url.includes(ADMIN_KEY))).toEqual([]);

    // a reload keeps the tab signed in; signing out forgets the key
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate('sessionStorage.getItem("stockroom.admin.key")')).toBeNull();
  });

  it('signs out when its key is revoked, and says why', async () => {
    const made = await api('POST', '/v1/keys', { name: 'temp', scopes: ['admin'] });
    const page = await freshPage();
    await page.goto(`${ctx.server.url}/admin/health`);
    await page.getByLabel('API key').fill(String(made.key));
    await page.getByRole('button', { name: 'Sign in' }).click();
    // once the page has read all it reads, the key is revoked; the next page's read finds out
    await expect.poll(() => page.locator('[data-health="sweeper"]').textContent()).toMatch(/ s$/);
    await api('POST', `/v1/keys/${String(made.id)}/revoke`);
    await page.getByRole('link', { name: 'Reservations' }).click();
    await page.getByRole('alert').filter({ hasText: 'The key is no longer valid' }).waitFor();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate('sessionStorage.getItem("stockroom.admin.key")')).toBeNull();
  });

  it('hides what a key may not do: a storefront key sees no menu, a warehouse key cannot edit settings', async () => {
    const warehouseKey = String((await api('POST', '/v1/keys', { name: 'picker', scopes: ['warehouse'] })).key);
    const page = await freshPage();
    await page.goto(`${ctx.server.url}/admin/variants/TEE-M`);
    await page.getByLabel('API key').fill(warehouseKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Review adjust' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Pages' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Stock', 'Purchasing', 'Floor', 'Kits', 'Import']);
    expect(await page.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
    await page.getByText('Changing settings needs a key with scope admin.').waitFor();
    // the alerts page, opened by its address, offers no form the server would refuse this key
    await page.goto(`${ctx.server.url}/admin/alerts`);
    await page.getByText('Alerts, deliveries and channels need a key with scope admin.').waitFor();
    expect(await page.getByRole('button', { name: 'Add channel' }).count()).toBe(0);

    const storefrontKey = String((await api('POST', '/v1/keys', { name: 'shop', scopes: ['storefront'] })).key);
    const shop = await freshPage();
    await shop.goto(`${ctx.server.url}/admin`);
    await shop.getByLabel('API key').fill(storefrontKey);
    await shop.getByRole('button', { name: 'Sign in' }).click();
    await shop.getByText("This key may open none of the console's pages.").waitFor();
    expect(await shop.getByRole('navigation', { name: 'Pages' }).getByRole('link').count()).toBe(0);
  });

  it('opens a variant, adjusts it with a reason after confirming, and shows the new ledger row and count', async () => {
    const page = await signedIn('/admin/variants/TEE-M');
    await expect.poll(() => cell(page, 'AMS', 'on_hand').textContent()).toBe('10');
    await page.locator('svg.chart').waitFor();
    // the ledger spans minutes: its ends are told apart by the time of day, not by one date twice
    const ends = await page.locator('svg.chart text').allTextContents();
    expect(ends.slice(-2)[0]).not.toBe(ends.slice(-2)[1]);
    expect(ends.slice(-2)[0]).toMatch(/\d:\d\d/);
    // the dashed line is not the API's available, which also takes off safety stock, damaged and quality control
    expect(await page.locator('figcaption.legend').textContent()).toContain('safety stock, damaged and quality');
    await noProblems(page);
    await screenshots(page, 'admin-2-variant');

    await page.getByRole('button', { name: 'Adjust', exact: true }).click();
    await page.getByLabel('Change (+ or −)').fill('-2');
    await page.getByLabel('Reason').selectOption('damaged');
    await page.getByLabel('Reference (optional)').fill('broken-box-7');
    await page.getByRole('button', { name: 'Review adjust' }).click();
    // what will change is said before anything is sent
    await page.getByText('Adjust AMS by −2 (damaged): on hand 10 → 8.').waitFor();
    expect(await onHand('TEE-M', 'AMS')).toBe(10);
    await screenshots(page, 'admin-3-adjust-confirm');
    await page.getByRole('button', { name: 'Confirm' }).click();

    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    await expect.poll(() => cell(page, 'AMS', 'on_hand').textContent()).toBe('8');
    const newest = page.locator('#ledger tbody tr').first();
    await expect.poll(() => newest.textContent()).toContain('broken-box-7');
    expect(await newest.textContent()).toContain('damaged');
    expect(await newest.textContent()).toContain('−2');
    expect(await newest.textContent()).toContain(`key:STOCKROOM_ADMIN_KEY`);
    expect(await onHand('TEE-M', 'AMS')).toBe(8);
  });

  it('an invalid form shows the server’s refusal once, in words, and changes nothing', async () => {
    const page = await signedIn('/admin/variants/TEE-M');
    await expect.poll(() => cell(page, 'AMS', 'on_hand').textContent()).toBe('8');
    const before = await ledgerSize('TEE-M');

    // a bin the API does not take: its format is on the field, and the refusal says it once, the field by its name
    await page.getByRole('button', { name: 'Receive', exact: true }).click();
    expect(await page.getByLabel('Bin (optional)').getAttribute('placeholder')).toBe('A-01-01');
    await page.getByLabel('Quantity', { exact: true }).fill('1');
    await page.getByLabel('Bin (optional)').fill('Z-99');
    await page.getByRole('button', { name: 'Review receive' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    const problem = page.getByRole('alert').filter({ hasText: 'validation_failed' });
    await problem.waitFor();
    expect(await problem.locator('li').allTextContents()).toEqual(['Bin: must be aisle-rack-shelf, e.g. A-01-03']);
    // the detail repeats the list word for word, and the schema's pattern means nothing to a person
    expect(await problem.textContent()).not.toContain('/bin');
    expect(await problem.textContent()).not.toContain('must match pattern');
    await screenshots(page, 'admin-4-invalid-form');

    // a quantity of 0 or past the API's limit: said in the form, before any review
    await page.getByLabel('Quantity', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Review receive' }).click();
    await page.getByRole('alert').filter({ hasText: 'Quantity must be from 1 to 10,000,000.' }).waitFor();
    expect(await page.getByRole('button', { name: 'Confirm' }).count()).toBe(0);

    // more than there is: the review would preview on hand below zero, so the form says so instead
    await page.getByRole('button', { name: 'Adjust', exact: true }).click();
    await page.getByLabel('Change (+ or −)').fill('-1000');
    await page.getByLabel('Reason').selectOption('shrinkage');
    await page.getByRole('button', { name: 'Review adjust' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'This would leave on hand in AMS at -992: it cannot go below 0.' })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Confirm' }).count()).toBe(0);
    expect(await onHand('TEE-M', 'AMS')).toBe(8);
    expect(await ledgerSize('TEE-M')).toBe(before);
    expect(await cell(page, 'AMS', 'on_hand').textContent()).toBe('8');
  });

  it('works from the keyboard: sign in, open a page from the menu, count stock and confirm, all with keys', async () => {
    const page = await freshPage();
    await page.goto(`${ctx.server.url}/admin/variants/TEE-M`);
    // the key field has the focus; Enter signs in
    await expect.poll(() => page.evaluate('document.activeElement?.name')).toBe('key');
    await page.keyboard.type(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await expect.poll(() => cell(page, 'AMS', 'on_hand').textContent()).toBe('8');
    await page.getByRole('button', { name: 'Count', exact: true }).press('Enter');
    await page.getByLabel('Counted').fill('8');
    await page.getByLabel('Counted').press('Enter');
    // the question has the focus: Enter confirms it
    await page.getByText('Record a count of 8 in AMS: on hand 8 → 8 (0).').waitFor();
    await expect.poll(() => page.evaluate('document.activeElement?.textContent')).toBe('Confirm');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done: Record a count of 8' }).waitFor();
    // the menu: Tab reaches its links, Enter follows one
    await page.getByRole('link', { name: 'Health' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Health' }).waitFor();
  });

  it('transfers between warehouses', async () => {
    const page = await signedIn('/admin/variants/TEE-M');
    await expect.poll(() => cell(page, 'AMS', 'on_hand').textContent()).toBe('8');
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    const from = page.locator('select[name="from"]');
    const to = page.locator('select[name="to"]');
    // the two start different, and stay so when From changes; the warehouses arrive by their own request, which
    // a loaded machine answers after the stock
    await expect.poll(async () => [await from.inputValue(), await to.inputValue()]).toEqual(['AMS', 'BER']);
    await from.selectOption('BER');
    expect(await to.inputValue()).toBe('AMS');
    // the same warehouse twice, or more than the API moves at once: said in the form, before any review
    await to.selectOption('BER');
    await page.getByLabel('Quantity', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Review transfer' }).click();
    await page.getByRole('alert').filter({ hasText: 'From and To must be two different warehouses.' }).waitFor();
    await from.selectOption('AMS');
    expect(await to.inputValue()).toBe('BER');
    await page.getByLabel('Quantity', { exact: true }).fill('99999999999999999999');
    await page.getByRole('button', { name: 'Review transfer' }).click();
    await page.getByRole('alert').filter({ hasText: 'Quantity must be from 1 to 10,000,000.' }).waitFor();
    expect(await page.getByRole('button', { name: 'Confirm' }).count()).toBe(0);
    await page.getByLabel('Quantity', { exact: true }).fill('9');
    await page.getByRole('button', { name: 'Review transfer' }).click();
    await page.getByRole('alert').filter({ hasText: 'This would leave on hand in AMS at -1' }).waitFor();
    await page.getByLabel('Quantity', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Review transfer' }).click();
    await page.getByText('Move 3 from AMS (8 → 5) to BER (0 → 3).').waitFor();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => cell(page, 'BER', 'on_hand').textContent()).toBe('3');
    expect(await cell(page, 'AMS', 'on_hand').textContent()).toBe('5');
    expect(await onHand('TEE-M', 'BER')).toBe(3);
    expect(await onHand('TEE-M', 'AMS')).toBe(5);
  });

  it("edits a variant's settings, and saves only what the form says", async () => {
    const page = await signedIn('/admin/variants/CAP');
    const threshold = page.getByLabel('Low-stock threshold');
    await expect.poll(() => threshold.inputValue()).toBe('5');
    await threshold.fill('4');
    await page.getByLabel('Reorder point').fill('2');
    await page.getByLabel('Supplier').selectOption('NORD');
    await page.getByLabel('Backorder policy').selectOption('backorder');
    await page.getByLabel('Backorder limit').fill('6');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
    expect(await api('GET', '/v1/variants/CAP')).toMatchObject({
      low_stock_threshold: 4,
      reorder_point: 2,
      supplier: 'NORD',
      backorder: { policy: 'backorder', limit: 6 },
      safety_stock: 0,
    });
    expect(await threshold.inputValue()).toBe('4');
  });

  it('edits every setting of a variant the API takes: title, category, tags, attributes, limit scope, tracking', async () => {
    await api('POST', '/v1/variants', {
      sku: 'MUG',
      product: { title: 'Mug', category: 'kitchen', tags: ['ceramic'] },
      attributes: { colour: 'white', volume_ml: 300 },
    });
    const page = await signedIn('/admin/variants/MUG');
    const title = page.getByLabel('Title');
    await expect.poll(() => title.inputValue()).toBe('Mug');
    expect(await page.getByLabel('Attributes').inputValue()).toBe('colour=white\nvolume_ml=300');
    await title.fill('Enamel mug');
    await page.getByLabel('Category').fill('kitchen/mugs');
    await page.getByLabel('Tags').fill('enamel, camping');
    await page.getByLabel('Attributes').fill('colour=blue\nvolume_ml=350\nfinish=speckled');
    await page.getByLabel('Limits apply to').selectOption('variant');
    await page.getByLabel('Track inventory').uncheck();
    await page.getByLabel('Safety stock').fill('2');
    await page.getByLabel('Reorder quantity').fill('24');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
    const saved = await api('GET', '/v1/variants/MUG');
    expect(saved).toMatchObject({
      product: { title: 'Enamel mug', category: 'kitchen/mugs', tags: ['enamel', 'camping'] },
      attributes: { colour: 'blue', volume_ml: 350, finish: 'speckled' },
      limit_scope: 'variant',
      track_inventory: false,
      safety_stock: 2,
      reorder_qty: 24,
    });
    await screenshots(page, 'admin-3b-variant-settings');

    // a category the API does not take: its problem is shown, and nothing of the form is saved
    await title.fill('Another title');
    expect(await page.getByLabel('Category').getAttribute('placeholder')).toBe('apparel/shirts');
    await page.getByLabel('Category').fill('Kitchen Mugs!');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const problem = page.getByRole('alert').filter({ hasText: 'validation_failed' });
    await problem.waitFor();
    // once, by the field's name: not the pattern, nor what the schema of an optional field adds to it
    expect(await problem.locator('li').allTextContents()).toEqual([
      'Category: must be a path of lower-case segments (letters, digits, - and _) joined by /, as apparel/shirts',
    ]);
    expect(await api('GET', '/v1/variants/MUG')).toEqual(saved);
  });

  it('shows a change made through the API on an open variant page, without a reload', async () => {
    const page = await signedIn('/admin/variants/TEE-M');
    await expect.poll(() => cell(page, 'AMS', 'on_hand').textContent()).toBe('5');
    await page.evaluate('window.stillHere = true');
    // the page follows the stream: it says so once it is open
    await page.getByText('● Live').waitFor();
    await api('POST', '/v1/reservations', { order_ref: 'live-1', lines: [{ sku: 'TEE-M', qty: 2 }], warehouse: 'AMS' });
    await expect.poll(() => cell(page, 'AMS', 'reserved').textContent(), { timeout: 10_000 }).toBe('2');
    expect(await page.evaluate('window.stillHere')).toBe(true);
  });

  it('lists reservations with the countdown of a pending one, and commits one', async () => {
    await api('POST', '/v1/reservations', {
      order_ref: 'web-1001',
      lines: [{ sku: 'TEE-M', qty: 1 }],
      ttl_seconds: 900,
    });
    const page = await signedIn('/admin/reservations?status=pending');
    const row = page.locator('#reservations tbody tr').filter({ hasText: 'web-1001' });
    await row.getByText(/1[45]:\d\d left/).waitFor();
    await noProblems(page);
    await screenshots(page, 'admin-5-reservations');
    await row.getByRole('button', { name: 'Commit' }).click();
    await row.getByRole('button', { name: 'Yes, commit' }).click();
    await page.getByRole('status').filter({ hasText: 'commit done' }).waitFor();
    const found = (await api('GET', '/v1/reservations?order_ref=web-1001')) as { items: { status: string }[] };
    expect(found.items[0]?.status).toBe('committed');
    // filtered to pending, the committed one has gone from the list
    await row.waitFor({ state: 'detached' });
  });

  it('sends, confirms and receives a purchase order into the suggested bin', async () => {
    const order = await api('POST', '/v1/purchase-orders', {
      supplier: 'NORD',
      warehouse: 'AMS',
      lines: [{ sku: 'TEE-M', qty: 12 }],
    });
    const id = String(order.id);
    const page = await signedIn('/admin/purchasing');
    const row = page.locator(`#purchase-orders tr[data-order="${id}"]`);
    await row.getByRole('button', { name: 'Send' }).click();
    await row.getByRole('button', { name: 'Yes, send' }).click();
    await row.getByText('SENT').waitFor();
    await row.getByRole('button', { name: 'Confirm' }).click();
    await row.getByRole('button', { name: 'Yes, confirm' }).click();
    await row.getByText('CONFIRMED').waitFor();
    await row.getByRole('button', { name: 'Receive…' }).click();
    const form = page.getByRole('form', { name: `Receive purchase order ${id}` });
    expect(await form.getByLabel('Quantity of TEE-M').inputValue()).toBe('12');
    // the bin is left empty: the form names the bin the server will choose, where the SKU already lies
    await expect.poll(() => form.getByLabel('Bin for TEE-M').getAttribute('placeholder')).toBe('suggested: A-01-01');
    await noProblems(page);
    await screenshots(page, 'admin-6-purchasing');
    // part of it first: the row is read again (status and count), the form closes, the receipt is said
    await form.getByLabel('Quantity of TEE-M').fill('5');
    await form.getByRole('button', { name: 'Receive' }).click();
    // the units went where the SKU already lies: the put-away suggestion
    await page.getByRole('status').filter({ hasText: 'TEE-M × 5 → A-01-01 (suggested)' }).waitFor();
    await row.getByText('PARTIAL').waitFor();
    await row.getByText('TEE-M: 5 / 12').waitFor();
    await form.waitFor({ state: 'detached' });
    expect(await api('GET', `/v1/purchase-orders/${id}`)).toMatchObject({ status: 'PARTIAL' });
    await row.getByRole('button', { name: 'Receive…' }).click();
    expect(await form.getByLabel('Quantity of TEE-M').inputValue()).toBe('7');
    await form.getByRole('button', { name: 'Receive' }).click();
    await page.getByRole('status').filter({ hasText: 'TEE-M × 7 → A-01-01 (suggested)' }).waitFor();
    await row.getByText('RECEIVED').waitFor();
    await row.getByText('TEE-M: 12 / 12').waitFor();
    await form.waitFor({ state: 'detached' });
    expect(await row.getByRole('button', { name: 'Receive…' }).count()).toBe(0);
    const after = (await api('GET', `/v1/purchase-orders/${id}`)) as { status: string };
    expect(after.status).toBe('RECEIVED');
    const stock = (await api('GET', '/v1/stock/TEE-M')) as {
      warehouses: { warehouse: string; bins: { bin: string; qty: number }[] }[];
    };
    // 10 received, 2 damaged, 3 moved to BER, then these 12: all in the one bin
    expect(stock.warehouses.find((level) => level.warehouse === 'AMS')?.bins).toEqual([{ bin: 'A-01-01', qty: 17 }]);
  });

  it('drafts a purchase order of several lines, showing the server’s refusal of a bad line first', async () => {
    const page = await signedIn('/admin/purchasing');
    const form = page.getByRole('form', { name: 'Draft a purchase order' });
    await form.getByLabel('Supplier').selectOption('NORD');
    await form.getByLabel('Warehouse').selectOption('BER');
    await form.getByLabel('SKU, line 1').fill('TEE-M');
    await form.getByLabel('Quantity, line 1').fill('6');
    await form.getByRole('button', { name: 'Add line' }).click();
    await form.getByLabel('SKU, line 2').fill('MUG');
    await form.getByLabel('Quantity, line 2').fill('1');
    await form.getByRole('button', { name: 'Add line' }).click();
    await form.getByLabel('SKU, line 3').fill('CAP');
    await form.getByLabel('Quantity, line 3').fill('0');
    const before = ((await api('GET', '/v1/purchase-orders?limit=100')) as { items: unknown[] }).items.length;
    await form.getByRole('button', { name: 'Draft' }).click();
    const problem = form.getByRole('alert').filter({ hasText: 'validation_failed' });
    await problem.waitFor();
    expect(await problem.locator('li').allTextContents()).toEqual(['Line 3, qty: must be >= 1']);
    await screenshots(page, 'admin-6b-purchase-order-draft');
    expect(((await api('GET', '/v1/purchase-orders?limit=100')) as { items: unknown[] }).items).toHaveLength(before);

    // the second line goes; what was typed into the others stays
    await form.getByRole('button', { name: 'Remove line 2' }).click();
    expect(await form.getByLabel('SKU, line 2').inputValue()).toBe('CAP');
    await form.getByLabel('Quantity, line 2').fill('9');
    await form.getByRole('button', { name: 'Draft' }).click();
    const done = form.getByRole('status').filter({ hasText: /drafted with 2 lines/ });
    await done.waitFor();
    const id = /Purchase order (\d+)/.exec((await done.textContent()) ?? '')?.[1];
    expect(await api('GET', `/v1/purchase-orders/${String(id)}`)).toMatchObject({
      supplier: 'NORD',
      warehouse: 'BER',
      status: 'DRAFT',
      lines: [
        { sku: 'TEE-M', qty: 6 },
        { sku: 'CAP', qty: 9 },
      ],
    });
  });

  it('previews every row error of a CSV import from the server, far past row 500, applies nothing until they are fixed, then applies it after confirming', async () => {
    const page = await signedIn('/admin/import');
    const before = { cap: await onHand('CAP', 'BER'), ledger: await ledgerSize('CAP') };
    const file = page.getByLabel('CSV file');
    // 700 good rows' worth of lines (the same level is not allowed twice, so warehouses take turns over new SKUs),
    // with the errors at the start and far past row 500
    const lines = ['sku,warehouse,on_hand', 'CAP,BER,7', 'NOPE,AMS,1', 'CAP,XXX,2', 'TEE-M,AMS,-4', 'CAP,BER,9'];
    for (let i = 0; i < 700; i++) lines.push(`CAP,AMS,${String(i)}`);
    await file.setInputFiles({ name: 'stock.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    await page.getByText('705 rows; 703 errors; 1 level would change.').waitFor();
    const errorOf = (line: number) => page.locator(`#import-errors tr[data-line="${String(line)}"] td[data-errors]`);
    expect(await errorOf(3).textContent()).toContain('unknown SKU NOPE');
    expect(await errorOf(4).textContent()).toContain('unknown warehouse XXX');
    expect(await errorOf(5).textContent()).toBe('must be >= 0');
    expect(await errorOf(6).textContent()).toBe('CAP at BER is already on line 2');
    // every one of the repeated rows after the first, to the last line of the file
    expect(await errorOf(706).textContent()).toBe('CAP at AMS is already on line 705');
    expect(await page.locator('#import-errors tbody tr').count()).toBe(703);
    expect(await page.getByRole('button', { name: 'Apply import' }).isDisabled()).toBe(true);
    await screenshots(page, 'admin-7-import-preview');
    expect(await onHand('CAP', 'BER')).toBe(before.cap);
    expect(await ledgerSize('CAP')).toBe(before.ledger);

    await file.setInputFiles({
      name: 'stock.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('sku,warehouse,on_hand\nCAP,BER,7\nCAP,AMS,1\n'),
    });
    await page.getByText('2 rows; 0 errors; 2 levels would change.').waitFor();
    expect(await page.locator('#import-preview tr[data-level="CAP@BER"] td.num').allTextContents()).toEqual([
      String(before.cap),
      '7',
    ]);
    expect(await onHand('CAP', 'BER')).toBe(before.cap);
    await page.getByRole('button', { name: 'Apply import' }).click();
    await page.getByRole('group', { name: 'Set on hand for 2 rows, changing 2 levels?' }).waitFor();
    await screenshots(page, 'admin-7b-import-confirm');
    await page.getByRole('button', { name: 'Yes, apply import' }).click();
    await page.getByText('Imported 2 rows; 2 levels changed.').waitFor();
    expect(await onHand('CAP', 'BER')).toBe(7);
    expect(await onHand('CAP', 'AMS')).toBe(1);
  });

  it('shows health and runs the ledger check', async () => {
    const page = await signedIn('/admin/health');
    await expect.poll(() => page.locator('[data-health="database"]').textContent()).toBe('ok (pglite)');
    await expect.poll(() => page.locator('[data-health="sweeper"]').textContent()).toMatch(/^\d+(\.\d+)? s$/);
    await page.getByRole('button', { name: 'Reconcile' }).click();
    await page.getByRole('button', { name: 'Yes, reconcile' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Clean: \d+ levels match \d+ movements\.$/ })
      .waitFor();
    await noProblems(page);
    await screenshots(page, 'admin-8-health');
  });

  // GET /v1/stock and its exports are the stock-list part's (issue 16, built in parallel): until that is merged the
  // stock page has nothing to list, and these tests say so and skip; once it is, they run
  interface StockList {
    items: { sku: string; warehouse: string; status: string }[];
  }
  const LOW_IN_AMS = '/v1/stock?warehouse=AMS&status=low&q=STK-';
  /** The rows of the stock table as SKU@WAREHOUSE (evaluated in the page: this project's TypeScript has no DOM types). */
  const tableSkus = (page: Page) =>
    page.evaluate<string[]>(
      `[...document.querySelectorAll('#stock-table tbody tr[data-sku]')].map((row) => row.dataset.sku + '@' + row.dataset.warehouse)`,
    );

  it('filters the stock list to low stock in one warehouse, the filter kept in the URL', async () => {
    for (const [sku, warehouse, qty] of [
      ['STK-LOW-1', 'AMS', 2],
      ['STK-LOW-2', 'AMS', 1],
      ['STK-OK', 'AMS', 40],
      ['STK-LOW-BER', 'BER', 1],
    ] as const) {
      await api('POST', '/v1/variants', { sku, product: { title: `Stock ${sku}` }, low_stock_threshold: 3 });
      await api('POST', '/v1/stock/receive', { sku, warehouse, qty });
    }
    const page = await signedIn('/admin/stock');
    await page.getByLabel('Search SKU or title').fill('STK-');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByLabel('Warehouse').selectOption('AMS');
    await page.getByLabel('Status').selectOption('low');
    await expect.poll(() => tableSkus(page)).toEqual(['STK-LOW-1@AMS', 'STK-LOW-2@AMS']);
    // the rows are the API's for the same filter, and the filter is in the address, to share
    const listed = (await api('GET', LOW_IN_AMS)) as unknown as StockList;
    expect(listed.items.map((row) => `${row.sku}@${row.warehouse}`)).toEqual(await tableSkus(page));
    expect(listed.items.every((row) => row.status === 'low')).toBe(true);
    const address = new URL(page.url());
    expect(Object.fromEntries(address.searchParams)).toMatchObject({ warehouse: 'AMS', status: 'low', q: 'STK-' });
    await noProblems(page);
    await screenshots(page, 'admin-1-stock-low-in-ams');

    // everything low or out now in AMS (GET /v1/stock/low): the low ones and the one sold out
    await api('POST', '/v1/variants', { sku: 'STK-OUT', product: { title: 'Stock STK-OUT' }, low_stock_threshold: 3 });
    await api('POST', '/v1/stock/receive', { sku: 'STK-OUT', warehouse: 'AMS', qty: 1 });
    await api('POST', '/v1/stock/adjust', { sku: 'STK-OUT', warehouse: 'AMS', delta: -1, reason: 'shrinkage' });
    await page.getByRole('button', { name: 'Everything low or out now' }).click();
    const lowNow = (await api('GET', '/v1/stock/low?warehouse=AMS&q=STK-')) as unknown as StockList;
    expect(lowNow.items.map((row) => row.sku).sort()).toEqual(['STK-LOW-1', 'STK-LOW-2', 'STK-LOW-BER', 'STK-OUT']);
    await expect.poll(() => tableSkus(page)).toEqual(lowNow.items.map((row) => `${row.sku}@${row.warehouse}`));
    expect(new URL(page.url()).searchParams.get('view')).toBe('low');
    await screenshots(page, 'admin-1-stock-low-now');
    // what is low now exports as it is shown
    const [lowCsv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'CSV' }).click(),
    ]);
    expect(lowCsv.suggestedFilename()).toBe('stock-low.csv');
    const [, ...lowLines] = readFileSync(await lowCsv.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(lowLines.map((line) => line.split(',')[0])).toEqual(lowNow.items.map((row) => row.sku));

    const shared = await signedIn(`${address.pathname}${address.search}`);
    await expect.poll(() => tableSkus(shared)).toEqual(['STK-LOW-1@AMS', 'STK-LOW-2@AMS']);
    expect(await shared.getByLabel('Status').inputValue()).toBe('low');
  });

  it('exports the filtered rows as CSV and .xlsx, through fetch with the key in a header, and they read back', async () => {
    const page = await signedIn(`/admin/stock?warehouse=AMS&status=low&q=STK-`);
    await expect.poll(() => tableSkus(page)).toEqual(['STK-LOW-1@AMS', 'STK-LOW-2@AMS']);
    const asked: string[] = [];
    page.on('request', (request) => asked.push(request.url()));

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
    const [header = '', ...lines] = readFileSync(await csv.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    const columns = header.split(',');
    const rows = lines.map((line) => line.split(','));
    const at = (name: string) => columns.indexOf(name);
    expect(rows.map((row) => `${row[at('sku')] ?? ''}@${row[at('warehouse')] ?? ''}`)).toEqual(await tableSkus(page));
    expect(rows.every((row) => row[at('status')] === 'low')).toBe(true);

    const [xlsx] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Excel' }).click(),
    ]);
    expect(xlsx.suggestedFilename()).toBe('stock.xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(await xlsx.path());
    const [sheetHeader = [], ...sheetRows] = (book.worksheets[0]?.getSheetValues() ?? []).filter(
      Boolean,
    ) as unknown[][];
    const cellOf = (row: unknown[], name: string) => String(row[sheetHeader.indexOf(name)]);
    expect(sheetRows.map((row) => `${cellOf(row, 'sku')}@${cellOf(row, 'warehouse')}`)).toEqual(await tableSkus(page));
    // the key went in a header, never in an address
    expect(asked.filter((url) => url.includes('/export.')).length).toBe(2);
    expect(asked.filter((url) => url.includes(ADMIN_KEY))).toEqual([]);
  });

  it('shows a change made through the API on an open stock page, without a reload', async () => {
    const page = await signedIn('/admin/stock?q=STK-OK');
    const onHandCell = page.locator(
      '#stock-table tr[data-sku="STK-OK"][data-warehouse="AMS"] td[data-column="on_hand"]',
    );
    await expect.poll(() => onHandCell.textContent()).toBe('40');
    await page.getByText('● Live').waitFor();
    await page.evaluate('window.stillHere = true');
    await api('POST', '/v1/stock/receive', { sku: 'STK-OK', warehouse: 'AMS', qty: 5 });
    await expect.poll(() => onHandCell.textContent(), { timeout: 10_000 }).toBe('45');
    expect(await page.evaluate('window.stillHere')).toBe(true);
  });

  it('shows commits and incoming units on an open stock page without a reload, though they move no available count', async () => {
    const page = await signedIn('/admin/stock?q=STK-OK');
    const cellOf = (column: string) =>
      page.locator(`#stock-table tr[data-sku="STK-OK"][data-warehouse="AMS"] td[data-column="${column}"]`);
    await page.getByText('● Live').waitFor();
    const before = {
      reserved: Number(await cellOf('reserved').textContent()),
      committed: Number(await cellOf('committed').textContent()),
      incoming: Number(await cellOf('incoming').textContent()),
    };
    await page.evaluate('window.stillHere = true');
    const held = await api('POST', '/v1/reservations', {
      order_ref: 'ORDER-LIVE',
      lines: [{ sku: 'STK-OK', qty: 2 }],
      warehouse: 'AMS',
    });
    await expect.poll(() => cellOf('reserved').textContent()).toBe(String(before.reserved + 2));
    // a commit changes no level: the page reads it on its next look (every 10 s while shown)
    await api('POST', `/v1/reservations/${String(held.id)}/commit`);
    await expect.poll(() => cellOf('committed').textContent(), { timeout: 15_000 }).toBe(String(before.committed + 2));
    const order = await api('POST', '/v1/purchase-orders', {
      supplier: 'NORD',
      warehouse: 'AMS',
      lines: [{ sku: 'STK-OK', qty: 7 }],
    });
    await api('POST', `/v1/purchase-orders/${String(order.id)}/send`);
    // nor does a sent order: the page reads it too when its tab is shown again, without waiting for its next look
    await page.evaluate('document.dispatchEvent(new Event("visibilitychange"))');
    await expect.poll(() => cellOf('incoming').textContent(), { timeout: 5_000 }).toBe(String(before.incoming + 7));
    expect(await page.evaluate('window.stillHere')).toBe(true);
    await api('POST', `/v1/reservations/${String(held.id)}/cancel`);
    await api('POST', `/v1/purchase-orders/${String(order.id)}/cancel`);
  });

  it('adds a channel, shows the alert feed, and retries a dead letter', async () => {
    const page = await signedIn('/admin/alerts');
    await page.locator('#alerts').waitFor();
    await page.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    await page.getByLabel('Secret (16+ characters, shown nowhere after this)').fill('a-secret-of-sixteen-chars');
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByRole('status').filter({ hasText: 'Channel added.' }).waitFor();
    // the list names the target without its path, which may hold a secret
    await page.locator('#channels tbody tr').filter({ hasText: 'http://127.0.0.1:9/***' }).waitFor();

    // an alert for it: BAG goes low; nothing listens on port 9, so with one try its delivery is a dead letter
    await api('POST', '/v1/variants', { sku: 'BAG', product: { title: 'Bag' }, low_stock_threshold: 3 });
    await api('POST', '/v1/stock/receive', { sku: 'BAG', warehouse: 'AMS', qty: 10 });
    await api('POST', '/v1/stock/adjust', { sku: 'BAG', warehouse: 'AMS', delta: -8, reason: 'shrinkage' });
    const dead = async () =>
      ((await api('GET', '/v1/deliveries?status=dead')) as { items: { id: number }[] }).items.map((one) => one.id);
    await expect.poll(async () => (await dead()).length, { timeout: 15_000 }).toBeGreaterThan(0);
    const [letter] = await dead();
    await page.reload();
    await page.locator('#alerts tbody tr').filter({ hasText: 'BAG' }).getByText('low stock').first().waitFor();
    const row = page.locator(`#deliveries tr[data-delivery="${String(letter)}"]`);
    await noProblems(page);
    await screenshots(page, 'admin-9-alerts');
    const deliveryOf = async () =>
      (
        (await api('GET', '/v1/deliveries')) as {
          items: { id: number; status: string; log: unknown[] }[];
        }
      ).items.find((one) => one.id === letter);
    const triedBefore = (await deliveryOf())?.log.length ?? 0;
    await row.getByRole('button', { name: 'Retry' }).click();
    await row.getByRole('button', { name: 'Yes, retry' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Delivery ${String(letter)} queued again.` })
      .waitFor();
    // sent again with a fresh budget: waiting to be tried, or tried once more (with one try and nothing on port 9, it
    // may be a dead letter again by the time this looks: its log then holds one more attempt)
    await expect
      .poll(async () => {
        const delivery = await deliveryOf();
        return delivery?.status !== 'dead' || delivery.log.length > triedBefore;
      })
      .toBe(true);
  });
  it('changes a reservation line after confirming: quantity, partial cancel, move, unfulfil; a refusal changes nothing', async () => {
    const held = await api('POST', '/v1/reservations', {
      order_ref: 'ORDER-CHANGE',
      lines: [
        { sku: 'TEE-M', qty: 2 },
        { sku: 'CAP', qty: 1 },
      ],
      warehouse: 'AMS',
    });
    const id = String(held.id);
    type Line = { sku: string; warehouse: string; qty: number; fulfilled: number; released: number };
    const reservation = async () => (await api('GET', `/v1/reservations/${id}`)) as { status: string; lines: Line[] };
    const page = await signedIn('/admin/reservations?order_ref=ORDER-CHANGE');
    const row = page.locator(`#reservations tr[data-reservation="${id}"]`);
    await row.getByRole('button', { name: 'Change…' }).click();
    const form = page.getByRole('form', { name: 'Change reservation ORDER-CHANGE' });
    const change = async (what: string, line: string, qty: string, says: string, to?: string) => {
      await form.locator('select[name="change"]').selectOption({ label: what });
      await form.getByLabel('Line').selectOption({ label: line });
      await form.locator('input[name="qty"]').fill(qty);
      if (to) await form.getByLabel('To warehouse').selectOption(to);
      await form.getByRole('button', { name: 'Review change' }).click();
      const dialog = page.getByRole('alertdialog', { name: 'Confirm the change' });
      expect(await dialog.locator('p').textContent()).toBe(says);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
    };
    const done = (says: string) =>
      page
        .getByRole('status')
        .filter({ hasText: `Done: ${says}` })
        .waitFor();

    // more than the warehouse can promise: the server's refusal, and the reservation as it was
    const before = await reservation();
    let says = 'TEE-M at AMS: 2 → 5000 units (shipped included).';
    await change('Change the quantity', 'TEE-M at AMS (2 reserved, 0 shipped, 0 released)', '5000', says);
    await page.getByRole('alert').filter({ hasText: 'insufficient_stock' }).waitFor();
    await screenshots(page, 'admin-5b-reservation-change-refused');
    expect(await reservation()).toEqual(before);

    says = 'TEE-M at AMS: 2 → 3 units (shipped included).';
    await change('Change the quantity', 'TEE-M at AMS (2 reserved, 0 shipped, 0 released)', '3', says);
    await done(says);
    expect((await reservation()).lines).toContainEqual(expect.objectContaining({ sku: 'TEE-M', qty: 3, released: 0 }));

    says = 'TEE-M at AMS: release 1 of the units it holds.';
    await change('Cancel some units', 'TEE-M at AMS (3 reserved, 0 shipped, 0 released)', '1', says);
    await done(says);
    expect((await reservation()).lines).toContainEqual(expect.objectContaining({ sku: 'TEE-M', qty: 3, released: 1 }));

    says = 'CAP at AMS: move 1 held units to BER.';
    await change('Move to another warehouse', 'CAP at AMS (1 reserved, 0 shipped, 0 released)', '1', says, 'BER');
    await done(says);
    expect((await reservation()).lines.filter((line) => line.sku === 'CAP' && line.qty - line.released > 0)).toEqual([
      expect.objectContaining({ warehouse: 'BER' }),
    ]);

    // paid and shipped through the API; one unit comes back through the page
    await api('POST', `/v1/reservations/${id}/commit`);
    await api('POST', `/v1/reservations/${id}/fulfil`);
    await page.reload();
    await row.getByText('fulfilled').waitFor();
    await row.getByRole('button', { name: 'Change…' }).click();
    says = 'TEE-M at AMS: bring 1 shipped units back on hand, held for the order again.';
    await change('Take back shipped units (unfulfil)', 'TEE-M at AMS (3 reserved, 2 shipped, 1 released)', '1', says);
    await done(says);
    const after = await reservation();
    expect(after.status).toBe('partially_fulfilled');
    expect(after.lines).toContainEqual(expect.objectContaining({ sku: 'TEE-M', fulfilled: 1 }));
    await noProblems(page);
  });
  it('adds Telegram and email channels, keeping their secrets out of the page, and shows a refused setting', async () => {
    const page = await signedIn('/admin/alerts');
    const form = page.getByRole('form', { name: 'Add a channel' });
    await form.getByLabel('Kind').selectOption('telegram');
    await form.getByLabel('Bot token').fill('123456:secret-token-xyz');
    await form.getByLabel('Chat').fill('not a chat');
    await form.getByRole('button', { name: 'Add channel' }).click();
    const problem = form.getByRole('alert').filter({ hasText: 'validation_failed' });
    await problem.waitFor();
    expect(await problem.textContent()).toContain('Chat id');
    const channels = async () =>
      ((await api('GET', '/v1/channels')) as { items: { id: number; kind: string }[] }).items;
    const before = await channels();

    await form.getByLabel('Chat').fill('@stockroom_ops');
    await form.getByRole('button', { name: 'Add channel' }).click();
    await form.getByRole('status').filter({ hasText: 'Channel added.' }).waitFor();
    await form.getByLabel('Kind').selectOption('email');
    await form.getByLabel('SMTP URL').fill('smtp://ops:mail-password@127.0.0.1:9');
    await form.getByLabel('From').fill('stock@example.com');
    await form.getByLabel('To (comma-separated)').fill('buyer@example.com');
    await form.getByRole('button', { name: 'Add channel' }).click();
    await form.getByRole('status').filter({ hasText: 'Channel added.' }).waitFor();
    await page.locator('#channels tbody tr').filter({ hasText: 'email' }).waitFor();
    await screenshots(page, 'admin-9b-channels');
    const added = (await channels()).filter((channel) => !before.some((other) => other.id === channel.id));
    expect(added.map((channel) => channel.kind).sort()).toEqual(['email', 'telegram']);
    const shown = (await page.locator('#channels').textContent()) ?? '';
    expect(shown).not.toContain('secret-token-xyz');
    expect(shown).not.toContain('mail-password');
    // nothing listens for them: stopped, so no later delivery is tried
    for (const channel of added) {
      const stopped = await fetch(`${ctx.server.url}/v1/channels/${String(channel.id)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(stopped.status).toBe(204);
    }
  });

  it('shows a key named with a date-time shortly in the header, the whole name in its tooltip', async () => {
    const name = 'demo 2026-11-27T18:03:05.119Z';
    const made = await api('POST', '/v1/keys', { name, scopes: ['admin'] });
    const page = await freshPage();
    await page.goto(`${ctx.server.url}/admin/health`);
    await page.getByLabel('API key').fill(String(made.key));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const shown = page.locator('header .who span[title]');
    await shown.waitFor();
    expect(await shown.getAttribute('title')).toBe(name);
    const text = (await shown.textContent()) ?? '';
    expect(text).toMatch(/^demo /);
    expect(text).not.toContain('T18:03:05.119Z');
    expect(text.length).toBeLessThan(name.length + 10);
  });

  it('fulfils a pending reservation directly, after confirming, as the API allows', async () => {
    await api('POST', '/v1/variants', { sku: 'SOCK', product: { title: 'Sock' } });
    await api('POST', '/v1/stock/receive', { sku: 'SOCK', warehouse: 'BER', qty: 5 });
    const held = await api('POST', '/v1/reservations', {
      order_ref: 'web-2001',
      lines: [{ sku: 'SOCK', qty: 2 }],
      warehouse: 'BER',
    });
    const page = await signedIn('/admin/reservations?order_ref=web-2001');
    const row = page.locator(`#reservations tr[data-reservation="${String(held.id)}"]`);
    await row.getByText('pending').waitFor();
    await row.getByRole('button', { name: 'Fulfil' }).click();
    await row.getByRole('button', { name: 'Yes, fulfil' }).click();
    await page.getByRole('status').filter({ hasText: 'fulfil done' }).waitFor();
    await row.getByText('fulfilled').waitFor();
    expect(await api('GET', `/v1/reservations/${String(held.id)}`)).toMatchObject({ status: 'fulfilled' });
    expect(await onHand('SOCK', 'BER')).toBe(3);
  });

  it('a refused reservations search shows the refusal alone: no rows, count or message of the search before', async () => {
    await api('POST', '/v1/reservations', {
      order_ref: 'web-2002',
      lines: [{ sku: 'SOCK', qty: 1 }],
      warehouse: 'BER',
    });
    const page = await signedIn('/admin/reservations?order_ref=web-2002');
    const rows = page.locator('#reservations tbody tr');
    await page.getByText('1 reservations match.').waitFor();
    expect(await rows.count()).toBe(1);
    // the message of an action taken before the search
    await rows.getByRole('button', { name: 'Commit' }).click();
    await rows.getByRole('button', { name: 'Yes, commit' }).click();
    const done = page.getByRole('status').filter({ hasText: 'commit done' });
    await done.waitFor();
    await page.getByLabel('Order').fill('x'.repeat(300));
    await page.getByRole('button', { name: 'Search' }).click();
    const problem = page.getByRole('alert').filter({ hasText: 'validation_failed' });
    await problem.waitFor();
    expect(await rows.count()).toBe(0);
    await page.getByText('No reservations shown: the search was refused.').waitFor();
    expect(await page.getByText(/reservations match/).count()).toBe(0);
    expect(await done.count()).toBe(0);
    expect(await problem.locator('li').allTextContents()).toEqual([
      'Order ref: must not have more than 200 characters',
    ]);
  });

  it('at phone width keeps the key columns of the stock list and the reservations list on screen', async () => {
    await api('POST', '/v1/reservations', {
      order_ref: 'web-phone',
      lines: [{ sku: 'SOCK', qty: 1 }],
      warehouse: 'BER',
      ttl_seconds: 900,
    });
    const page = await signedIn('/admin/stock?warehouse=BER');
    await page.setViewportSize(VIEWPORTS.phone);
    const width = VIEWPORTS.phone.width;
    /** The right edge of each element, which must be within the phone's screen, not behind a sideways scroll. */
    const rightEdges = async (selector: string): Promise<number[]> => {
      const edges: number[] = [];
      for (const element of await page.locator(selector).all()) {
        const box = await element.boundingBox();
        if (box) edges.push(box.x + box.width);
      }
      expect(edges.length).toBeGreaterThan(0);
      return edges;
    };
    const row = page.locator('#stock-table tbody tr[data-sku="SOCK"]');
    await row.waitFor();
    for (const column of ['on_hand', 'available']) {
      expect(await row.locator(`td[data-column="${column}"]`).isVisible()).toBe(true);
    }
    expect(await row.locator('td .badge').isVisible()).toBe(true);
    for (const edge of await rightEdges('#stock-table tbody tr[data-sku="SOCK"] td'))
      expect(edge).toBeLessThanOrEqual(width);
    await screenshots(page, 'admin-10-stock-phone');
    await page.setViewportSize(VIEWPORTS.phone);

    await page.goto(`${ctx.server.url}/admin/reservations?order_ref=web-phone`);
    const reservation = page.locator('#reservations tbody tr').filter({ hasText: 'web-phone' });
    await reservation.getByText(/1[45]:\d\d left/).waitFor();
    for (const name of ['Commit', 'Fulfil', 'Cancel']) {
      const box = await reservation.getByRole('button', { name }).boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(width);
    }
    for (const edge of await rightEdges('#reservations tbody tr td .countdown'))
      expect(edge).toBeLessThanOrEqual(width);
    await page.setViewportSize(VIEWPORTS.desktop);
    // the desktop keeps its table with a header row
    expect(await page.locator('#reservations thead').isVisible()).toBe(true);
  });

  it('shows the floor: locations with their fill, a pick face refilled from bulk, a reservation’s pick list, and a count recorded from the count plan with its variance', async () => {
    await api('POST', '/v1/warehouses', { code: 'FLR', name: 'Floor' });
    await api('POST', '/v1/warehouses/FLR/locations', { code: 'P-01-01', type: 'pick_face', max_weight_g: 5000 });
    await api('POST', '/v1/warehouses/FLR/locations', { code: 'B-01-01' });
    await api('PUT', '/v1/variants/CAP/measures', { weight_g: 200 });
    await api('PUT', '/v1/warehouses/FLR/locations/P-01-01/minimum', { sku: 'CAP', min_qty: 4 });
    await api('POST', '/v1/stock/receive', { sku: 'CAP', warehouse: 'FLR', qty: 30, bin: 'B-01-01', unit_cost: 150 });

    const page = await signedIn('/admin/floor?warehouse=FLR');
    await page.locator('#locations tr[data-location="B-01-01"]').filter({ hasText: 'CAP 30' }).waitFor();
    expect(await page.getByLabel('Warehouse').inputValue()).toBe('FLR');
    expect(await page.locator('#locations tr[data-location="P-01-01"]').textContent()).toContain('0 of 5000 g (0%)');
    // no room limit by volume, 5000 g of weight: the face takes 25 caps
    const refill = page.locator('#refills tr').filter({ hasText: 'P-01-01' });
    await refill.getByText('B-01-01 25').waitFor();
    await refill.getByRole('button', { name: 'Move' }).click();
    await refill.getByRole('button', { name: 'Yes, move' }).click();
    await page.getByRole('status').filter({ hasText: 'Moved 25 of CAP to P-01-01.' }).waitFor();
    await page.locator('#locations tr[data-location="P-01-01"]').filter({ hasText: '5000 of 5000 g (100%)' }).waitFor();
    expect(await onHand('CAP', 'FLR')).toBe(30);

    const held = (await api('POST', '/v1/reservations', {
      order_ref: 'floor-1',
      warehouse: 'FLR',
      lines: [{ sku: 'CAP', qty: 27 }],
    })) as { id: string };
    await page.getByLabel('Reservation').fill(held.id);
    await page.getByRole('button', { name: 'Show' }).click();
    const stops = page.locator('#pick-list tbody tr');
    await stops.nth(1).waitFor();
    expect(await stops.allTextContents()).toEqual(['FLRB-01-01CAP2', 'FLRP-01-01CAP25']);
    await noProblems(page);
    await api('POST', `/v1/reservations/${held.id}/cancel`);

    // the count plan: CAP moved all the value, so both its locations are class A, never counted; a count recorded
    // from a row shows its variance and moves on hand by it
    const counts = page.locator('#count-plan tbody tr');
    await counts.nth(1).waitFor();
    expect(await counts.allTextContents()).toEqual([
      expect.stringMatching(/^B-01-01CAPAnever/),
      expect.stringMatching(/^P-01-01CAPAnever/),
    ]);
    const bulk = page.locator('#count-plan tr[data-count="B-01-01/CAP"]');
    await bulk.getByLabel('Counted CAP in B-01-01').fill('4');
    await bulk.getByRole('button', { name: 'Record' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Counted 4 of CAP in B-01-01: expected 5, variance −1.' })
      .waitFor();
    await bulk.locator('td.num').filter({ hasText: '−1' }).waitFor();
    await page.locator('#count-plan tr[data-count="P-01-01/CAP"]').filter({ hasText: 'never' }).waitFor();
    // the plan is read again after the count: its last counted follows once that read is in
    await expect.poll(() => bulk.textContent()).not.toContain('never');
    expect(await onHand('CAP', 'FLR')).toBe(29);
    await noProblems(page);
    await screenshots(page, 'admin-10-floor');
  });
});
