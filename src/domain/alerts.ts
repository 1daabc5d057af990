/**
 * Threshold alerts. The crossings themselves are judged by the database in the stock change's transaction
 * (migration 0007); these are the names and the words people read.
 */
/** The crossings a variant's available stock can make, each raised once per crossing. */
export const ALERT_TYPES = ['low_stock', 'out_of_stock', 'back_in_stock'] as const;
/** One kind of threshold crossing. */
export type AlertType = (typeof ALERT_TYPES)[number];

/** Narrows text from a caller (a filter, a stored row) to a known alert type. */
export const isAlertType = (value: string): value is AlertType => (ALERT_TYPES as readonly string[]).includes(value);

/** What a message about an alert needs to say. */
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
export function alertHeadline(alert: AlertFacts): string {
  const where = alert.warehouse === null ? 'across all warehouses' : `at ${alert.warehouse}`;
  const units = `${alert.available} available`;
  const detail = alert.type === 'low_stock' ? `${units} (threshold ${alert.threshold})` : units;
  return `${HEADLINES[alert.type]}: ${alert.sku} ${where}, ${detail}`;
}
