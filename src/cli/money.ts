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

/** A unit cost given for a SKU on the command line, in minor units as the API takes it. */
export interface SkuCost {
  sku: string;
  unitCost: number;
}

/**
 * `SKU=AMOUNT` pairs (amounts in major units of the store currency) as unit costs, in the order given. A SKU named
 * twice is refused, as the API refuses a line named twice: which of its costs is meant is not guessed.
 */
export function skuCosts(pairs: readonly string[], env: NodeJS.ProcessEnv): SkuCost[] {
  const costs: SkuCost[] = [];
  pairs.forEach((pair, i) => {
    const at = pair.lastIndexOf('=');
    if (at <= 0) throw ValidationError.field('/costs', `${JSON.stringify(pair)} is not SKU=AMOUNT (e.g. TEE-M=4.50)`);
    const sku = pair.slice(0, at);
    const first = costs.findIndex((cost) => cost.sku === sku);
    if (first !== -1)
      throw ValidationError.field(
        `/costs/${i}`,
        `${sku} is given a cost twice (${JSON.stringify(pairs[first])} and ${JSON.stringify(pair)}): give it once`,
      );
    costs.push({ sku, unitCost: unitCostArg(pair.slice(at + 1), env) });
  });
  return costs;
}
