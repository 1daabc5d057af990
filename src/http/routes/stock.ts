import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { AdjustInput, CountInput, ReceiveInput, ReturnInput, Sku, SyncInput, TransferInput } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { pageQuery } from './query.js';

const WAREHOUSE = ['warehouse'] as const;

export function stockRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    const op = (path: string, summary: string, body: object, run: (input: unknown, o: ReturnType<typeof callOptions>) => Promise<unknown>) => {
      app.post(path, { config: { scopes: WAREHOUSE }, schema: { tags: ['stock'], summary, body } }, async (req) => run(req.body, callOptions(req)));
    };
    op('/stock/receive', 'Receive units into a warehouse (optionally into a bin)', ReceiveInput, (i, o) => stockroom.stock.receive(i, o));
    op('/stock/adjust', 'Add or remove units for a reason', AdjustInput, (i, o) => stockroom.stock.adjust(i, o));
    op('/stock/count', 'Record a cycle count', CountInput, (i, o) => stockroom.stock.count(i, o));
    op('/stock/transfer', 'Move available units between warehouses', TransferInput, (i, o) => stockroom.stock.transfer(i, o));
    op('/stock/sync', 'Absolute on-hand numbers from an external warehouse system', SyncInput, (i, o) => stockroom.stock.sync(i, o));
    op('/returns', 'Record a customer return', ReturnInput, (i, o) => stockroom.stock.return(i, o));

    app.get('/stock/:sku', { config: { scopes: ['warehouse', 'checkout'] }, schema: { tags: ['stock'], summary: 'On hand, reserved and available per warehouse (never cached)', params: Type.Object({ sku: Sku }) } }, async (req) =>
      stockroom.stock.get((req.params as { sku: string }).sku),
    );
    app.get('/movements', { config: { scopes: WAREHOUSE }, schema: { tags: ['stock'], summary: 'The ledger, newest first' } }, async (req) => {
      const q = pageQuery(req.query);
      return stockroom.stock.movements({
        sku: q.string('sku'),
        warehouse: q.string('warehouse'),
        type: q.string('type'),
        since: q.string('since'),
        reservation_id: q.string('reservation_id'),
        cursor: q.string('cursor'),
        limit: q.limit(),
      });
    });
  };
}
