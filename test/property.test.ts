import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StockroomError } from '../src/domain/errors.js';
import { Stockroom } from '../src/services/stockroom.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';

/** One random operation against a small world of 2 SKUs x 2 warehouses; indexes pick the target. */
const op = fc.oneof(
  fc.record({
    kind: fc.constant('receive' as const),
    sku: fc.nat(1),
    wh: fc.nat(1),
    qty: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('adjust' as const),
    sku: fc.nat(1),
    wh: fc.nat(1),
    delta: fc.integer({ min: -6, max: 6 }).filter((d) => d !== 0),
  }),
  fc.record({ kind: fc.constant('count' as const), sku: fc.nat(1), wh: fc.nat(1), counted: fc.nat(12) }),
  fc.record({ kind: fc.constant('sync' as const), sku: fc.nat(1), wh: fc.nat(1), onHand: fc.nat(12) }),
  fc.record({
    kind: fc.constant('transfer' as const),
    sku: fc.nat(1),
    from: fc.nat(1),
    qty: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('return' as const),
    sku: fc.nat(1),
    wh: fc.nat(1),
    qty: fc.integer({ min: 1, max: 3 }),
    damaged: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('reserve' as const),
    lines: fc.array(fc.record({ sku: fc.nat(1), qty: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 3 }),
    // short holds expire within a tick or two, long ones live to be committed and fulfilled
    ttl: fc.integer({ min: 1, max: 600 }),
  }),
  { arbitrary: fc.record({ kind: fc.constant('commit' as const), r: fc.nat(20) }), weight: 2 },
  fc.record({ kind: fc.constant('release' as const), r: fc.nat(20) }),
  // a fulfilment needs a reservation made in an earlier round and still held, and stock on hand: drawn as often as
  // the others, it shipped only 2-11 times in 50 runs (and none, once, in CI), where every kind must happen
  {
    arbitrary: fc.record({
      kind: fc.constant('fulfil' as const),
      r: fc.nat(20),
      partial: fc.option(fc.integer({ min: 1, max: 3 })),
    }),
    weight: 4,
  },
  fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 90 }) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

interface Run {
  skus: string[];
  wh: string[];
  reservations: { id: string; sku: string }[];
}

async function apply(s: Stockroom, clock: { advance: (s: number) => void }, run: Run, o: Op): Promise<void> {
  const sku = (i: number) => run.skus[i]!;
  const wh = (i: number) => run.wh[i]!;
  /** the stock level (SKU and warehouse) an operation's indexes pick */
  const level = (target: { sku: number; wh: number }) => ({ sku: sku(target.sku), warehouse: wh(target.wh) });
  const reservation = (i: number) => run.reservations[i % Math.max(1, run.reservations.length)];
  switch (o.kind) {
    case 'receive':
      await s.stock.receive({ ...level(o), qty: o.qty });
      return;
    case 'adjust':
      await s.stock.adjust({ ...level(o), delta: o.delta, reason: o.delta > 0 ? 'correction' : 'damaged' });
      return;
    case 'count':
      await s.stock.count({ ...level(o), counted: o.counted });
      return;
    case 'sync':
      await s.stock.sync({ source: 'prop', items: [{ ...level(o), on_hand: o.onHand }] });
      return;
    case 'transfer':
      await s.stock.transfer({ sku: sku(o.sku), from: wh(o.from), to: wh(1 - o.from), qty: o.qty });
      return;
    case 'return':
      await s.stock.return({
        ...level(o),
        qty: o.qty,
        condition: o.damaged ? 'damaged' : 'resellable',
        reference: 'RMA',
      });
      return;
    case 'reserve': {
      const r = await s.reservations.reserve({
        order_ref: uniq('p'),
        lines: o.lines.map((l) => ({ sku: sku(l.sku), qty: l.qty })),
        ttl_seconds: o.ttl,
      });
      // all or nothing: what is held per SKU is exactly what was asked for
      const asked = new Map<string, number>();
      for (const l of o.lines) asked.set(sku(l.sku), (asked.get(sku(l.sku)) ?? 0) + l.qty);
      const held = new Map<string, number>();
      for (const l of r.lines) held.set(l.sku, (held.get(l.sku) ?? 0) + l.qty);
      expect(held).toEqual(asked);
      run.reservations.push({ id: r.id, sku: r.lines[0]!.sku });
      return;
    }
    case 'commit':
    case 'release':
    case 'fulfil': {
      const r = reservation(o.r);
      if (!r) return;
      if (o.kind === 'commit') await s.reservations.commit(r.id);
      else if (o.kind === 'release') await s.reservations.release(r.id);
      else await s.reservations.fulfil(r.id, o.partial === null ? {} : { lines: [{ sku: r.sku, qty: o.partial }] });
      return;
    }
    case 'tick':
      clock.advance(o.seconds);
      await s.reservations.expireDue();
      return;
  }
}

describe.each(drivers())('random operation sequences on %s', (driver) => {
  const h = useStockroom(driver, { max: 8 });

  it('keep every invariant: levels equal their ledger and open holds, nothing sold past its limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 16 }),
        async (rounds) => {
          const run: Run = { skus: [uniq('PD'), uniq('PB')], wh: [uniq('PW0'), uniq('PW1')], reservations: [] };
          for (const code of run.wh) await h.s.catalog.addWarehouse({ code, name: code });
          await h.s.catalog.addVariant({ sku: run.skus[0]!, product: { title: 'deny' }, safety_stock: 1 });
          await h.s.catalog.addVariant({
            sku: run.skus[1]!,
            product: { title: 'backorder' },
            backorder: { policy: 'backorder', limit: 3 },
          });
          // each round's operations run at once (concurrently on PostgreSQL, queued on PGlite)
          for (const round of rounds) {
            const settled = await Promise.allSettled(round.map((o) => apply(h.s, h.clock, run, o)));
            for (const s of settled)
              if (s.status === 'rejected' && !(s.reason instanceof StockroomError)) throw s.reason as Error;
          }
          // checked for this run's SKUs only, so that fast-check shrinks a failure to the sequence that caused it
          const report = await h.s.reconcile();
          const mine = (row: { sku: string }) => run.skus.includes(row.sku);
          expect({ drift: report.drift.filter(mine), holds: report.holds.filter(mine) }).toEqual({
            drift: [],
            holds: [],
          });
          const oversold = await h.s.db.query<{ n: number }>(
            `SELECT count(*) AS n FROM stock_movements m JOIN stock_levels l USING (variant_id, warehouse_id)
            WHERE m.type = 'reserve' AND m.on_hand_after - m.reserved_after - l.safety_stock < -l.backorder_limit`,
          );
          expect(oversold.rows[0]!.n).toBe(0);
          // the sellable number above leaves out damaged and quality_control (migration 0016): exact because no
          // operation here moves units into a state, which this keeps true
          const states = await h.s.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM stock_levels l JOIN variants v ON v.id = l.variant_id
              WHERE v.sku = ANY($1::text[]) AND (l.damaged <> 0 OR l.quality_control <> 0)`,
            [run.skus],
          );
          expect(states.rows[0]!.n).toBe(0);
          const negative = await h.s.db.query<{ n: number }>(
            'SELECT count(*) AS n FROM stock_levels WHERE on_hand < 0 OR reserved < 0',
          );
          expect(negative.rows[0]!.n).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
    // the sequences did real work: every kind of movement happened, so the checks above were not vacuous
    const kinds = await h.s.db.query<{ type: string; n: number }>(
      `SELECT m.type, count(*) AS n FROM stock_movements m JOIN warehouses w ON w.id = m.warehouse_id
        WHERE w.code LIKE 'PW%' GROUP BY m.type`,
    );
    expect(kinds.rows.map((k) => k.type).sort()).toEqual(
      [
        'adjust',
        'count',
        'expire',
        'fulfil',
        'receive',
        'release',
        'reserve',
        'return',
        'sync',
        'transfer_in',
        'transfer_out',
      ].sort(),
    );
  });
});
