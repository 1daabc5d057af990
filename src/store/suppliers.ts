import type { Queryable } from './db.js';

/** A supplier as stored, with the code of the warehouse its orders go to by default. */
export interface SupplierRow {
  id: number;
  code: string;
  name: string;
  email: string | null;
  lead_time_days: number | null;
  warehouse_id: number | null;
  warehouse: string | null;
  /** ISO 4217 currency it bills in; null: the store's */
  currency: string | null;
  created_at: Date;
}

const SUPPLIER = `SELECT s.id, s.code, s.name, s.email, s.lead_time_days, s.warehouse_id, w.code AS warehouse, s.currency,
                         s.created_at
                    FROM suppliers s LEFT JOIN warehouses w ON w.id = s.warehouse_id`;

/** @returns the new row, or undefined when the code is taken */
export async function insertSupplier(
  tx: Queryable,
  supplier: {
    code: string;
    name: string;
    email: string | null;
    leadTimeDays: number | null;
    warehouseId: number | null;
    currency?: string | null;
  },
): Promise<SupplierRow | undefined> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO suppliers (code, name, email, lead_time_days, warehouse_id, currency) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (code) DO NOTHING RETURNING id`,
    [
      supplier.code,
      supplier.name,
      supplier.email,
      supplier.leadTimeDays,
      supplier.warehouseId,
      supplier.currency ?? null,
    ],
  );
  if (!rows[0]) return undefined;
  return (await tx.query<SupplierRow>(`${SUPPLIER} WHERE s.id = $1`, [rows[0].id])).rows[0];
}

/** Every supplier, by code. */
export async function listSuppliers(db: Queryable): Promise<SupplierRow[]> {
  return (await db.query<SupplierRow>(`${SUPPLIER} ORDER BY s.code`)).rows;
}

/** The suppliers with these codes (unknown codes are simply absent). */
export async function findSuppliers(db: Queryable, codes: readonly string[]): Promise<SupplierRow[]> {
  return (await db.query<SupplierRow>(`${SUPPLIER} WHERE s.code = ANY($1::text[])`, [codes])).rows;
}
