/**
 * Threshold alerts. The crossings themselves are judged by the database in the stock change's transaction
 * (migration 0007); these are the names and the words people read.
 */
export const ALERT_TYPES = ['low_stock', 'out_of_stock', 'back_in_stock'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const isAlertType = (value: string): value is AlertType => (ALERT_TYPES as readonly string[]).includes(value);

export interface AlertFacts {
  type: AlertType;
  sku: string;
  /** null: the variant over all warehouses */
  warehouse: string | null;
  available: number;
  threshold: number;
}

const HEADLINES: Record<AlertType, string> = {
  low_stock: 'Low stock',
  out_of_stock: 'Out of stock',
  back_in_stock: 'Back in stock',
};

/** One line a person reads in Slack, Telegram or an email subject. */
export function alertHeadline(a: AlertFacts): string {
  const where = a.warehouse === null ? 'across all warehouses' : `at ${a.warehouse}`;
  const units = `${a.available} available`;
  const detail = a.type === 'low_stock' ? `${units} (threshold ${a.threshold})` : units;
  return `${HEADLINES[a.type]}: ${a.sku} ${where}, ${detail}`;
}
