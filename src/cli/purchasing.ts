import type { Command } from 'commander';
import { int, intOption, skuQty } from './args.js';
import {
  ConfirmInput,
  PurchaseOrderInput,
  PurchaseReceiptInput,
  SupplierInput,
  parse,
  parseChannelInput,
} from '../services/schemas.js';
import { withStockroom } from './context.js';
import type { CommandContext } from './context.js';
import { formatPurchaseOrder, table } from './output.js';

const list = (value: string): string[] =>
  value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** `SKU:QTY` or `SKU:QTY@BIN` for receipts. */
function receiptLines(pairs: readonly string[]): { sku: string; qty: number | string; bin?: string }[] {
  const lines = skuQty('lines')(pairs.map((p) => (p.lastIndexOf('@') > 0 ? p.slice(0, p.lastIndexOf('@')) : p)));
  return lines.map((line, i) => {
    const p = pairs[i] ?? '';
    const at = p.lastIndexOf('@');
    return at > 0 ? { ...line, bin: p.slice(at + 1) } : line;
  });
}

export function registerPurchasing(program: Command, ctx: () => CommandContext): void {
  program
    .command('alerts')
    .description('low-stock, out-of-stock and back-in-stock alerts, newest first')
    .option('--type <type>', 'low_stock | out_of_stock | back_in_stock')
    .option('--sku <sku>', 'of one SKU')
    .option('--limit <n>', 'how many', intOption, 50)
    .action(async (o: { type?: string; sku?: string; limit: number }) => {
      const c = ctx();
      const page = await withStockroom(c.env, (s) => s.alerts.list({ type: o.type, sku: o.sku, limit: o.limit }));
      c.print(page, () =>
        table(
          ['ID', 'WHEN', 'TYPE', 'SKU', 'WAREHOUSE', 'AVAILABLE', 'THRESHOLD'],
          page.items.map((a) => [a.id, a.created_at, a.type, a.sku, a.warehouse ?? 'all', a.available, a.threshold]),
        ),
      );
    });

  const channels = program
    .command('channels')
    .description('where alerts are delivered: webhook, slack, telegram, email');
  channels
    .command('add <kind>')
    .description(
      'add a channel (webhook: --url --secret; slack: --url; telegram: --bot-token --chat-id; email: --smtp-url --from --to)',
    )
    .requiredOption('--events <list>', 'comma-separated: low_stock, out_of_stock, back_in_stock, stock.shortfall')
    .option('--name <name>', 'a name to know it by')
    .option('--url <url>', 'webhook or Slack incoming-webhook URL')
    .option('--secret <secret>', 'webhook signing secret (16+ characters)')
    .option('--bot-token <token>', 'Telegram bot token')
    .option('--chat-id <id>', 'Telegram chat id or @channel')
    .option('--api-url <url>', 'Telegram Bot API base URL (default https://api.telegram.org)')
    .option('--smtp-url <url>', 'smtp://user:pass@host:587')
    .option('--from <address>', 'email sender')
    .option('--to <addresses>', 'email recipients, comma-separated')
    .action(async (kind: string, o: Record<string, string | undefined>) => {
      const c = ctx();
      const input = {
        kind,
        events: list(o['events'] ?? ''),
        name: o['name'],
        url: o['url'],
        secret: o['secret'],
        bot_token: o['botToken'],
        chat_id: o['chatId'],
        api_url: o['apiUrl'],
        smtp_url: o['smtpUrl'],
        from: o['from'],
        to: o['to'],
      };
      const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
      const channel = await withStockroom(c.env, (s) => s.channels.add(parseChannelInput(defined)));
      c.print(channel, `channel ${channel.id}: ${channel.kind} to ${channel.target} for ${channel.events.join(', ')}`);
    });
  channels
    .command('list')
    .description('every channel (never its secrets)')
    .action(async () => {
      const c = ctx();
      const page = await withStockroom(c.env, (s) => s.channels.list());
      c.print(page, () =>
        table(
          ['ID', 'KIND', 'NAME', 'TARGET', 'EVENTS'],
          page.items.map((ch) => [ch.id, ch.kind, ch.name, ch.target, ch.events.join(',')]),
        ),
      );
    });
  channels
    .command('remove <id>')
    .description('stop a channel; its delivery log stays')
    .action(async (id: string) => {
      const c = ctx();
      await withStockroom(c.env, (s) => s.channels.remove(id));
      c.print({ id: Number(id), removed: true }, `channel ${id} removed`);
    });

  const deliveries = program.command('deliveries').description('the delivery log of alerts');
  deliveries
    .command('list')
    .description('deliveries, newest first, with their tries')
    .option('--status <status>', 'pending | delivered | dead')
    .option('--channel <id>', 'of one channel')
    .option('--limit <n>', 'how many', intOption, 50)
    .action(async (o: { status?: string; channel?: string; limit: number }) => {
      const c = ctx();
      const page = await withStockroom(c.env, (s) =>
        s.channels.deliveries({ status: o.status, channel: o.channel, limit: o.limit }),
      );
      c.print(page, () =>
        table(
          ['ID', 'CHANNEL', 'EVENT', 'STATUS', 'TRIES', 'NEXT TRY', 'LAST ERROR'],
          page.items.map((d) => [
            d.id,
            `${d.channel_id} ${d.kind}`,
            `${d.event_id} ${d.event}`,
            d.status,
            d.attempts,
            d.next_attempt_at,
            d.last_error,
          ]),
        ),
      );
    });
  deliveries
    .command('retry <id>')
    .description('send a dead letter again, with a fresh budget of tries (a running server sends it)')
    .action(async (id: string) => {
      const c = ctx();
      await withStockroom(c.env, (s) => s.channels.retry(id));
      c.print({ id: Number(id), status: 'pending' }, `delivery ${id} is due again`);
    });

  const suppliers = program.command('suppliers').description('who stock is bought from');
  suppliers
    .command('add <code> <name>')
    .description('add a supplier')
    .option('--email <address>', 'where orders go')
    .option('--lead-time <days>', 'days from order to delivery', intOption)
    .option('--warehouse <code>', 'where its orders are delivered unless an order says otherwise')
    .action(async (code: string, name: string, o: { email?: string; leadTime?: number; warehouse?: string }) => {
      const c = ctx();
      const s = await withStockroom(c.env, (st) =>
        st.purchasing.addSupplier(
          parse(SupplierInput, { code, name, email: o.email, lead_time_days: o.leadTime, warehouse: o.warehouse }),
          { actor: c.actor },
        ),
      );
      c.print(s, `supplier ${s.code} (${s.name})`);
    });
  suppliers
    .command('list')
    .description('every supplier')
    .action(async () => {
      const c = ctx();
      const page = await withStockroom(c.env, (s) => s.purchasing.listSuppliers());
      c.print(page, () =>
        table(
          ['CODE', 'NAME', 'EMAIL', 'LEAD DAYS', 'WAREHOUSE'],
          page.items.map((s) => [s.code, s.name, s.email, s.lead_time_days, s.warehouse]),
        ),
      );
    });

  const po = program.command('po').description('purchase orders: DRAFT, SENT, CONFIRMED, PARTIAL, RECEIVED, CANCELLED');
  po.command('create <supplier> <warehouse> <lines...>')
    .description('draft an order; lines are SKU:QTY')
    .option('--expected <date>', 'expected delivery, YYYY-MM-DD')
    .option('--reference <ref>', 'your reference')
    .action(
      async (supplier: string, warehouse: string, lines: string[], o: { expected?: string; reference?: string }) => {
        const c = ctx();
        const order = await withStockroom(c.env, (s) =>
          s.purchasing.create(
            parse(PurchaseOrderInput, {
              supplier,
              warehouse,
              lines: skuQty('lines')(lines),
              expected_date: o.expected,
              reference: o.reference,
            }),
            { actor: c.actor },
          ),
        );
        c.print(order, formatPurchaseOrder(order));
      },
    );
  po.command('list')
    .description('orders, newest first')
    .option('--status <status>', 'DRAFT, SENT, CONFIRMED, PARTIAL, RECEIVED or CANCELLED')
    .option('--supplier <code>', 'of one supplier')
    .option('--limit <n>', 'how many', intOption, 50)
    .action(async (o: { status?: string; supplier?: string; limit: number }) => {
      const c = ctx();
      const page = await withStockroom(c.env, (s) =>
        s.purchasing.list({ status: o.status, supplier: o.supplier, limit: o.limit }),
      );
      c.print(page, () =>
        table(
          ['ID', 'SUPPLIER', 'WAREHOUSE', 'STATUS', 'EXPECTED', 'LINES', 'OUTSTANDING'],
          page.items.map((x) => [
            x.id,
            x.supplier,
            x.warehouse,
            x.status,
            x.expected_date,
            x.lines.length,
            x.lines.reduce((n, l) => n + l.outstanding, 0),
          ]),
        ),
      );
    });
  po.command('show <id>')
    .description('one order')
    .action(async (id: string) => {
      const c = ctx();
      const order = await withStockroom(c.env, (s) => s.purchasing.get(id));
      c.print(order, formatPurchaseOrder(order));
    });
  for (const [action, description] of [
    ['send', 'DRAFT to SENT: the supplier has it (dated by its lead time if undated)'],
    ['cancel', 'cancel what is still open'],
  ] as const) {
    po.command(`${action} <id>`)
      .description(description)
      .action(async (id: string) => {
        const c = ctx();
        const order = await withStockroom(c.env, (s) => s.purchasing[action](id, { actor: c.actor }));
        c.print(order, formatPurchaseOrder(order));
      });
  }
  po.command('confirm <id>')
    .description("SENT to CONFIRMED, with the supplier's date")
    .option('--expected <date>', 'the date the supplier confirmed, YYYY-MM-DD')
    .action(async (id: string, o: { expected?: string }) => {
      const c = ctx();
      const order = await withStockroom(c.env, (s) =>
        s.purchasing.confirm(id, parse(ConfirmInput, o.expected === undefined ? {} : { expected_date: o.expected }), {
          actor: c.actor,
        }),
      );
      c.print(order, formatPurchaseOrder(order));
    });
  po.command('receive <id> <lines...>')
    .description('receive units: SKU:QTY (put away where suggested) or SKU:QTY@BIN')
    .option('--reference <ref>', 'e.g. the delivery note')
    .action(async (id: string, lines: string[], o: { reference?: string }) => {
      const c = ctx();
      const receipt = await withStockroom(c.env, (s) =>
        s.purchasing.receive(id, parse(PurchaseReceiptInput, { lines: receiptLines(lines), reference: o.reference }), {
          actor: c.actor,
        }),
      );
      c.print(receipt, () => {
        const put = receipt.put_away.map(
          (p) =>
            `  ${p.qty} x ${p.sku} -> ${p.bin ?? 'no bin (none to suggest)'}${p.suggested && p.bin ? ' (suggested)' : ''}`,
        );
        return `${formatPurchaseOrder(receipt.order)}\nput away:\n${put.join('\n')}`;
      });
    });

  program
    .command('replenish')
    .description('draft purchase orders for variants at or below their reorder point (what the daily job does)')
    .option('--dry-run', 'only show what is due, with demand-based suggestions')
    .option('--sku <sku...>', 'with --dry-run: these SKUs, due or not')
    .option('--window-days <n>', 'days of demand history', '28')
    .option('--service-level <p>', 'chance of not running out during the lead time', '0.95')
    .action(async (o: { dryRun?: boolean; sku?: string[]; windowDays: string; serviceLevel: string }) => {
      const c = ctx();
      if (o.dryRun) {
        const page = await withStockroom(c.env, (s) =>
          s.replenishment.suggestions({
            sku: o.sku,
            window_days: int(o.windowDays),
            service_level: o.serviceLevel,
            limit: 500,
          }),
        );
        c.print(page, () =>
          table(
            ['SKU', 'SUPPLIER', 'POSITION', 'ROP', 'ORDER', 'OPEN PO', 'DEMAND/DAY', 'SUGGESTED SS', 'SUGGESTED ROP'],
            page.items.map((x) => [
              x.sku,
              x.supplier,
              x.position,
              x.reorder_point,
              x.suggested_qty,
              x.open_purchase_order,
              x.demand.mean_per_day.toFixed(2),
              x.suggested_safety_stock,
              x.suggested_reorder_point,
            ]),
          ),
        );
        return;
      }
      const run = await withStockroom(c.env, (s) => s.replenishment.replenish());
      c.print(run, () => {
        const orders = run.orders.length === 0 ? 'nothing to order' : run.orders.map(formatPurchaseOrder).join('\n');
        const skipped = run.skipped.map((x) => `skipped ${x.sku}: ${x.reason.replaceAll('_', ' ')}`);
        return [orders, ...skipped].join('\n');
      });
    });
}
