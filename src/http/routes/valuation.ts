import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import {
  VALUATION_COLUMNS,
  ValuationInput,
  startedLines,
  valuationCsv,
  valuationXlsx,
} from '../../services/valuation.js';
import type { ValuationLine } from '../../services/valuation.js';
import type { Stockroom } from '../../services/stockroom.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import { listValues } from './query.js';

/** what stock is worth is the business's, not the dock's or the checkout's */
const ADMIN = ['admin'] as const;
const route = routesTagged('valuation');
const { group_by: _groupBy, ...exportFilters } = ValuationInput.properties;
const ExportQuery = Type.Object(exportFilters, { additionalProperties: false });
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The valuation report: GET /v1/valuation, and every level of it as CSV or Excel. */
export function valuationRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/valuation',
      route(ADMIN, 'On hand x moving-average cost as of a date, by warehouse, category, supplier or SKU', {
        operationId: 'getValuation',
        querystring: ValuationInput,
        answer: { schema: Answers.Valuation },
        refusals: ['money_overflow'],
      }),
      async (req) => stockroom.valuation.report(listValues(ValuationInput, req.query)),
    );
    const exportRoute = (
      extension: 'csv' | 'xlsx',
      type: string,
      write: (lines: AsyncIterable<ValuationLine>) => unknown,
    ) =>
      app.get(
        `/valuation/export.${extension}`,
        route(ADMIN, `Every level of the valuation as ${extension === 'csv' ? 'CSV' : 'an Excel workbook'}, streamed`, {
          operationId: extension === 'csv' ? 'exportValuationCsv' : 'exportValuationXlsx',
          querystring: ExportQuery,
          answer: {
            type,
            description: `A header of the columns (${VALUATION_COLUMNS.join(',')}), then one ${extension === 'csv' ? 'line' : 'row'} per level with units, in key order; amounts in minor units`,
          },
          refusals: ['money_overflow'],
        }),
        async (req, reply) => {
          const query = listValues(ExportQuery, req.query);
          // the first level is read before the answer starts, so a refused export is a problem document
          const all = await startedLines(stockroom.valuation.lines(query));
          const day = (query.as_of ?? new Date().toISOString()).slice(0, 10);
          return reply
            .type(extension === 'csv' ? `${type}; charset=utf-8` : type)
            .header('content-disposition', `attachment; filename="valuation-${day}.${extension}"`)
            .send(write(all));
        },
      );
    exportRoute('csv', 'text/csv', valuationCsv);
    exportRoute('xlsx', XLSX, valuationXlsx);
  };
}
