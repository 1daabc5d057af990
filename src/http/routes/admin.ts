import type { FastifyInstance } from 'fastify';
import type { Stockroom } from '../../services/stockroom.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';

const route = routesTagged('operations');

/** Operations on the whole engine for admins. */
export function adminRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    // a read, but POST: it replays the whole ledger, which no crawler or prefetch should set off
    app.post(
      '/admin/reconcile',
      route(['admin'], 'Replay the ledger against every level: the drift report', {
        operationId: 'reconcileLedger',
        answer: { schema: Answers.ReconcileReport, description: 'What was checked, and every level that drifted' },
      }),
      () => stockroom.reconcile(),
    );
  };
}
