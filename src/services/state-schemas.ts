import Type from 'typebox';
import type { Static } from 'typebox';
import { STOCK_STATES } from '../domain/stock-state.js';
import { Quantity, ReasonCode, Reference, Sku, WarehouseCode } from './schemas.js';

/** One of the states a level's unreserved units are in (domain/stock-state.ts). */
export const StockStateName = Type.Enum(STOCK_STATES);

/** Units moved between two states of one level: on hand and reserved stay, available may change. */
export const MoveStateInput = Type.Object(
  {
    sku: Sku,
    warehouse: WarehouseCode,
    qty: Quantity,
    from: StockStateName,
    to: StockStateName,
    reason: ReasonCode,
    /** kept as the ledger row's reference */
    note: Type.Optional(Reference),
  },
  { additionalProperties: false },
);
/** What `stock.moveState` takes. */
export type MoveStateInput = Static<typeof MoveStateInput>;
