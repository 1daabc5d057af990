import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { stockListCsv, stockListXlsx } from '../../services/stock-export.js';
import { STOCK_LIST_COLUMNS, StockListInput } from '../../services/stock-list.js';
import type { StockListItem } from '../../services/stock-list.js';
import { PageLimit } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import { QueryFlag, fromQuery, listValues } from './query.js';

/** who reads stock (as GET /v1/stock/{sku}); exports are the warehouse's, as the CSV export of every level */
const READERS = ['warehouse', 'checkout'] as const;
const EXPORTERS = ['warehouse'] as const;
const { limit: _limit, cursor: _cursor, below_reorder_point: _below, ...filters } = StockListInput.properties;
/** The filters and order of the list as query parameters (a flag is the text true or false). */
const filterQuery = {
  ...filters,
  below_reorder_point: Type.Optional(
    QueryFlag({
      description:
        'true: only variants at or below their reorder point (on hand, less reserved and unsellable, plus incoming, over every warehouse)',
    }),
  ),
};
const pageQuery = {
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, description: 'next_cursor of the previous page' })),
};
const StockQuery = Type.Object({ ...filterQuery, ...pageQuery }, { additionalProperties: false });
const { status: _status, ...lowFilters } = filterQuery;
const LowStockQuery = Type.Object({ ...lowFilters, ...pageQuery }, { additionalProperties: false });
const ExportQuery = Type.Object(filterQuery, { additionalProperties: false });
const LowExportQuery = Type.Object(lowFilters, { additionalProperties: false });

/** The query's values as the service takes them: the flag as a boolean, the page size as a number. */
function inputOf(values: Record<string, string | number | string[] | undefined>): StockListInput {
  const input = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  return {
    ...input,
    ...(values.below_reorder_point === undefined ? {} : { below_reorder_point: values.below_reorder_point === 'true' }),
  };
}

const route = routesTagged('stock');
const COLUMNS = STOCK_LIST_COLUMNS.join(',');
/** An export's name: the date it was read, so two exports of a day sort by name. */
const fileName = (extension: string): string => `stock-${new Date().toISOString().slice(0, 10)}.${extension}`;

/** The admin console's stock list: every level filtered, sorted and paged; low stock now; CSV and Excel exports. */
export function stockListRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/stock',
      route(READERS, 'Stock levels as a list: filtered, sorted by a column, keyset-paged, with a total', {
        operationId: 'listStock',
        querystring: StockQuery,
        answer: { schema: Answers.StockListPage },
        refusals: ['not_found'],
      }),
      async (req) => fromQuery(() => stockroom.stockList.list(inputOf(listValues(StockQuery, req.query)))),
    );
    app.get(
      '/stock/low',
      route(
        READERS,
        'Low stock now: every level at or below its low-stock threshold (low, out, pre-order, backorder)',
        {
          operationId: 'listLowStock',
          querystring: LowStockQuery,
          answer: { schema: Answers.StockListPage },
          refusals: ['not_found'],
        },
      ),
      async (req) => fromQuery(() => stockroom.stockList.low(inputOf(listValues(LowStockQuery, req.query)))),
    );
    const exportRoute = (
      extension: 'csv' | 'xlsx',
      type: string,
      write: (items: AsyncIterable<StockListItem>) => unknown,
      low = false,
    ) =>
      app.get(
        `/stock${low ? '/low' : ''}/export.${extension}`,
        route(
          EXPORTERS,
          `${low ? 'Every level low or out now' : 'Every level the filter matches'} as ${extension === 'csv' ? 'CSV' : 'an Excel workbook'}, streamed`,
          {
            operationId: `export${low ? 'LowStock' : 'StockList'}${extension === 'csv' ? 'Csv' : 'Xlsx'}`,
            querystring: low ? LowExportQuery : ExportQuery,
            answer: {
              type,
              description: `A header of the columns (${COLUMNS}), then one ${extension === 'csv' ? 'line' : 'row'} per level, in the list's order; tags joined by |`,
            },
            refusals: ['not_found'],
          },
        ),
        async (req, reply) => {
          const rows = low
            ? stockroom.stockList.lowRows(inputOf(listValues(LowExportQuery, req.query)))
            : stockroom.stockList.rows(inputOf(listValues(ExportQuery, req.query)));
          // the first chunk is read before the answer starts, so a refused filter (an unknown warehouse) is a
          // problem document, not a broken download
          const first = await rows.next();
          const items = (async function* () {
            if (first.done !== true) yield first.value;
            yield* rows;
          })();
          return reply
            .type(extension === 'csv' ? `${type}; charset=utf-8` : type)
            .header('content-disposition', `attachment; filename="${fileName(extension)}"`)
            .send(write(items));
        },
      );
    exportRoute('csv', 'text/csv', stockListCsv);
    exportRoute('xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', stockListXlsx);
    exportRoute('csv', 'text/csv', stockListCsv, true);
    exportRoute('xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', stockListXlsx, true);
  };
}
