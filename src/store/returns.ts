import type { Queryable } from './db.js';

export interface NewReturn {
  variantId: number;
  warehouseId: number;
  qty: number;
  condition: 'resellable' | 'damaged';
  reference: string;
  actor: string | null;
}

export async function insertReturn(tx: Queryable, r: NewReturn): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO returns (variant_id, warehouse_id, qty, condition, reference, actor) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [r.variantId, r.warehouseId, r.qty, r.condition, r.reference, r.actor],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row.id;
}
