import { MoneyOverflowError, ValidationError } from './errors.js';

/**
 * Money is an integer number of minor units (cents, pence, yen) of one ISO 4217 currency, never a float: sums of
 * costs must come out to the unit, and 0.1 + 0.2 does not. Amounts are JavaScript numbers only while they are safe
 * integers; anything larger is refused (MoneyOverflowError), never rounded.
 */

/**
 * The most one unit of a variant may cost, in minor units (10,000,000.00 in a two-decimal currency). With on hand
 * at most 2,147,483,647 the database's bigint arithmetic cannot overflow; a level's value may still not pass
 * MAX_AMOUNT, which the cost trigger enforces (migration 0036): the change that would take it past is refused.
 */
export const MAX_UNIT_COST = 1_000_000_000;

/** The most any amount may be, in minor units: beyond it a JavaScript number no longer holds every integer. */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/** The currency a store keeps its costs in unless STOCKROOM_CURRENCY says otherwise. */
export const DEFAULT_CURRENCY = 'USD';

const KNOWN_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** Whether a code is an ISO 4217 currency (as Node's ICU data knows them): upper case, three letters. */
export const isCurrency = (code: string): boolean => /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code);

/** A currency code, checked; `path` names the place in the input a wrong one is reported at. */
export function currencyCode(code: string, path = '/currency'): string {
  if (!isCurrency(code)) throw ValidationError.field(path, `${JSON.stringify(code)} is not an ISO 4217 currency code`);
  return code;
}

/** How many digits a currency's minor unit has: 2 for USD and EUR, 0 for JPY, 3 for KWD. */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** An amount, checked: a safe non-negative integer at most `limit`; `what` names it in the refusal. */
export function checkedAmount(amount: number, what: string, limit = MAX_AMOUNT): number {
  if (!Number.isInteger(amount) || amount < 0) throw ValidationError.field('', `${what} must be whole minor units`);
  if (amount > limit) throw new MoneyOverflowError(what, limit);
  return amount;
}

/**
 * Reads an amount written in major units ("12.50", "1250" for yen) as minor units of the currency. More decimals
 * than the currency has are refused, not rounded: a price of 12.505 USD is a mistake to tell, not to guess.
 */
export function parseMoney(text: string, currency: string, limit = MAX_AMOUNT): number {
  const digits = minorDigits(currency);
  const match = /^(\d{1,16})(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw ValidationError.field('', `${JSON.stringify(text)} is not an amount (digits, a point, digits)`);
  const fraction = match[2] ?? '';
  if (fraction.length > digits)
    throw ValidationError.field('', `${currency} has ${digits} decimal${digits === 1 ? '' : 's'}, ${text} has more`);
  const minor = BigInt(match[1] ?? '0') * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  if (minor > BigInt(limit)) throw new MoneyOverflowError(`the amount ${text} ${currency}`, limit);
  return Number(minor);
}

/** Writes minor units in major units with the currency's decimals: 1250 USD is "12.50", 1250 JPY "1250". */
export function formatMoney(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${text}` : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** An amount the database summed, as text (it may pass 2^53), as a number; refused when no number holds it exactly. */
export function amountFromText(text: string, what = 'the amount'): number {
  const amount = BigInt(text);
  if (amount > BigInt(MAX_AMOUNT) || amount < -BigInt(MAX_AMOUNT)) throw new MoneyOverflowError(what, MAX_AMOUNT);
  return Number(amount);
}

/** amount x qty, refused when it would pass what an amount may hold. */
export function multiply(amount: number, qty: number, what = 'the amount'): number {
  const product = BigInt(amount) * BigInt(qty);
  if (product > BigInt(MAX_AMOUNT) || product < -BigInt(MAX_AMOUNT)) throw new MoneyOverflowError(what, MAX_AMOUNT);
  return Number(product);
}

/** The sum of amounts, refused when it would pass what an amount may hold. */
export function sum(amounts: Iterable<number>, what = 'the total'): number {
  let total = 0n;
  for (const amount of amounts) total += BigInt(amount);
  if (total > BigInt(MAX_AMOUNT) || total < -BigInt(MAX_AMOUNT)) throw new MoneyOverflowError(what, MAX_AMOUNT);
  return Number(total);
}

/**
 * The average of `total` minor units over `units`, in whole minor units, half away from zero: the rule PostgreSQL's
 * round(numeric) follows, so an average computed here equals the one migration 0029 stores. Null for no units.
 */
export function averageOf(total: number, units: number): number | null {
  if (units === 0) return null;
  const t = BigInt(total);
  const u = BigInt(units);
  const negative = t < 0n !== u < 0n;
  const absT = t < 0n ? -t : t;
  const absU = u < 0n ? -u : u;
  const rounded = (2n * absT + absU) / (2n * absU);
  return Number(negative ? -rounded : rounded);
}
