import type { Queryable } from './db.js';

/** A customer return to record, resellable or damaged. */
export interface NewReturn {
  variantId: number;
  warehouseId: number;
  qty: number;
  condition: 'resellable' | 'damaged';
  reference: string;
  actor: string | null;
}

/** Records a customer return; returns its id. */
export async function insertReturn(tx: Queryable, customerReturn: NewReturn): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO returns (variant_id, warehouse_id, qty, condition, reference, actor) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [
      customerReturn.variantId,
      customerReturn.warehouseId,
      customerReturn.qty,
      customerReturn.condition,
      customerReturn.reference,
      customerReturn.actor,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row.id;
}
