import { ValidationError } from '../domain/errors.js';
import { MAX_UNIT_COST, parseMoney } from '../domain/money.js';
import { currencyFromEnv } from './context.js';

/**
 * A unit cost as a person writes it, in major units of the store currency ("12.50" for USD), as the minor units
 * the API takes: the CLI speaks money the way an invoice does, the API the way the ledger keeps it.
 */
export function unitCostArg(text: string, env: NodeJS.ProcessEnv): number {
  return parseMoney(text, currencyFromEnv(env), MAX_UNIT_COST);
}

/** `SKU=AMOUNT` pairs (amounts in major units of the store currency) as unit costs by SKU. */
export function skuCosts(pairs: readonly string[], env: NodeJS.ProcessEnv): Map<string, number> {
  const costs = new Map<string, number>();
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=');
    if (at <= 0) throw ValidationError.field('/costs', `${JSON.stringify(pair)} is not SKU=AMOUNT (e.g. TEE-M=4.50)`);
    costs.set(pair.slice(0, at), unitCostArg(pair.slice(at + 1), env));
  }
  return costs;
}
