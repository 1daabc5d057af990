/**
 * Calls to the stockroom API from the console. The key is kept in sessionStorage (gone with the tab) and sent only
 * as an Authorization header: never in a URL, so it is in no history, log or Referer.
 */

const KEY_STORAGE = 'stockroom.admin.key';

/** Where the API is: the console is served at <prefix>/admin, the API at <prefix>/v1 (docs/embedding.md). */
export const API_ROOT = location.pathname.slice(0, Math.max(0, location.pathname.indexOf('/admin')));

/** The key this tab signed in with, if any. */
export const storedKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);

/** Keeps the key for this tab only. */
export function keepKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/** An RFC 9457 problem document, as every refusal of the API is. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { path: string; message: string }[];
}

/** A refusal of the API, carrying its problem document to show as it is. */
export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

/** Called when the server says the key is no longer valid (revoked): the console signs out. */
let onUnauthorized: () => void = () => undefined;
/** Sets what happens when the key stops working. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as Problem;
    if (typeof parsed.title === 'string') return parsed;
  } catch {
    // not JSON: a proxy's page, say
  }
  return { title: response.statusText || 'Request failed', status: response.status, detail: text.slice(0, 300) };
}

/** Options of one call: a body (JSON, or text with its type), an idempotency key, another key (sign-in). */
export interface CallOptions {
  body?: unknown;
  text?: { content: string; type: string };
  idempotent?: boolean;
  key?: string;
}

/** A call with the key; the raw response once it succeeded (else an ApiProblem). */
export async function send(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const key = options.key ?? storedKey();
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (options.text) {
    headers['content-type'] = options.text.type;
    body = options.text.content;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  // one key per confirmed action: a retry after a lost answer does not do it twice
  if (options.idempotent) headers['idempotency-key'] = crypto.randomUUID();
  let response: Response;
  try {
    response = await fetch(`${API_ROOT}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  } catch (error) {
    throw new ApiProblem({
      title: 'The server could not be reached',
      status: 0,
      detail: error instanceof Error ? error.message : String(error),
    });
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401 && options.key === undefined) onUnauthorized();
    throw new ApiProblem(problem);
  }
  return response;
}

/** A call answered with JSON (undefined for 204). */
export async function api<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** GET, the common case. */
export const get = <T>(path: string): Promise<T> => api<T>('GET', path);

/** A query string from filters, leaving out empty ones. */
export function query(values: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Downloads what a GET answers (an export) through fetch, so the key stays in a header, and saves it as a file. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await (await send('GET', path)).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 10_000);
}

/** The key the console signed in with: its name and scopes. */
export interface Me {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
}

/** What the API answers (the shapes of docs/api.md that the console reads). */
export interface Warehouse {
  code: string;
  name: string;
  archived_at: string | null;
}

/** A variant's settings. */
export interface Variant {
  sku: string;
  product: { title: string; category: string | null; tags: string[] };
  attributes: Record<string, string | number | boolean>;
  low_stock_threshold: number;
  safety_stock: number;
  backorder: { policy: 'deny' | 'backorder' | 'preorder'; limit: number; lead_days: number | null };
  reorder_point: number | null;
  reorder_qty: number | null;
  lead_time_days: number | null;
  supplier: string | null;
  limit_scope: 'warehouse' | 'variant';
  track_inventory: boolean;
  archived_at: string | null;
}

/** One warehouse's numbers of GET /v1/stock/{sku}. */
export interface WarehouseStock {
  warehouse: string;
  on_hand: number;
  reserved: number;
  committed: number;
  pending: number;
  available: number;
  incoming: number;
  damaged: number;
  quality_control: number;
  safety_stock: number;
  bins: { bin: string; qty: number }[];
}

/** GET /v1/stock/{sku}. */
export interface StockOfSku {
  sku: string;
  total: Omit<WarehouseStock, 'warehouse' | 'bins'>;
  warehouses: WarehouseStock[];
}

/** One row of the ledger. */
export interface Movement {
  id: number;
  sku: string;
  warehouse: string;
  type: string;
  delta_on_hand: number;
  delta_reserved: number;
  on_hand_after: number;
  reserved_after: number;
  reason: string | null;
  reference: string | null;
  actor: string | null;
  reservation_id: string | null;
  created_at: string;
}

/** One row of GET /v1/stock (the stock list's contract). */
export interface StockRow {
  sku: string;
  title: string;
  product: string;
  category: string | null;
  tags: string[];
  warehouse: string;
  on_hand: number;
  reserved: number;
  committed: number;
  available: number;
  incoming: number;
  safety_stock: number;
  low_stock_threshold: number;
  reorder_point: number | null;
  status: string;
  supplier: string | null;
}

/** A page of a list. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total?: number;
}

/** A reservation and its lines. */
export interface Reservation {
  id: string;
  order_ref: string;
  status: string;
  expires_at: string | null;
  created_at: string;
  lines: { sku: string; warehouse: string; qty: number; fulfilled: number; released: number; backordered: number }[];
}

/** A purchase order. */
export interface PurchaseOrder {
  id: number;
  supplier: string;
  warehouse: string;
  status: string;
  expected_date: string | null;
  origin: string;
  reference: string | null;
  lines: { sku: string; qty: number; received_qty: number; outstanding: number }[];
  created_at: string;
}

/** A supplier. */
export interface Supplier {
  code: string;
  name: string;
  email: string | null;
  lead_time_days: number | null;
  warehouse: string | null;
}

/** POST /v1/import/stock/preview: a dry run of a CSV import. */
export interface ImportPreview {
  rows: number;
  changed: number;
  changes: { sku: string; warehouse: string; on_hand_before: number; on_hand: number }[];
  shortfalls: { sku: string; warehouse: string; on_hand: number; reserved: number; shortfall: number }[];
  errors: { line: number | null; path: string; message: string }[];
  error_count: number;
}
