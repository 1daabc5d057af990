import { ValidationError } from './errors.js';

/** One component of a kit: a variant and how many of it go into one kit. */
export interface KitComponent {
  sku: string;
  qty: number;
}

/** A kit: a SKU sold as a set of other SKUs, holding no stock of its own. */
export interface Kit {
  sku: string;
  components: KitComponent[];
}

/** The most components one kit may have. */
export const MAX_KIT_COMPONENTS = 50;

/**
 * What is known of a SKU named as a component when a kit is defined: whether it exists, counts its stock and is a
 * kit itself.
 */
export interface ComponentFacts {
  tracked: boolean;
  kit: boolean;
  /** its limits apply to its sum over warehouses (limit_scope variant) */
  variantWide?: boolean;
}

/**
 * The rules of a kit's definition: at least one component, each named once with a positive quantity, none the kit
 * itself or another kit (a kit is expanded in one step), each a variant whose stock is counted (an untracked one
 * would let the kit sell without limit). Unknown SKUs are the caller's to report (unknown_sku).
 * @returns the SKUs of `components` that are not known
 */
export function checkKit(kit: Kit, facts: ReadonlyMap<string, ComponentFacts>): string[] {
  const errors: { path: string; message: string }[] = [];
  if (kit.components.length === 0) errors.push({ path: '/components', message: 'a kit needs at least one component' });
  if (kit.components.length > MAX_KIT_COMPONENTS)
    errors.push({ path: '/components', message: `a kit has at most ${MAX_KIT_COMPONENTS} components` });
  const seen = new Set<string>();
  const unknown: string[] = [];
  kit.components.forEach((component, i) => {
    const at = `/components/${i}`;
    if (!Number.isInteger(component.qty) || component.qty <= 0)
      errors.push({ path: `${at}/qty`, message: 'must be a positive whole number' });
    if (component.sku === kit.sku) errors.push({ path: `${at}/sku`, message: 'a kit cannot contain itself' });
    else if (seen.has(component.sku))
      errors.push({ path: `${at}/sku`, message: `${component.sku} is named twice; give its quantity once` });
    seen.add(component.sku);
    const fact = facts.get(component.sku);
    if (component.sku === kit.sku) return;
    if (!fact) unknown.push(component.sku);
    else if (fact.kit)
      errors.push({ path: `${at}/sku`, message: `${component.sku} is a kit; a kit cannot contain a kit` });
    else if (!fact.tracked)
      errors.push({ path: `${at}/sku`, message: `${component.sku} does not track inventory; a component must` });
    // a kit is routed per warehouse: a limit on the sum over warehouses is not one a kit's plan can keep
    else if (fact.variantWide === true)
      errors.push({
        path: `${at}/sku`,
        message: `${component.sku} has limits over all warehouses; a component may not`,
      });
  });
  if (errors.length > 0) throw new ValidationError(errors);
  return unknown;
}

/**
 * How many kits the components' available units make: the least, over the components, of available ÷ quantity,
 * rounded down. A component with nothing available (or less than nothing) makes none.
 */
export function kitsAvailable(components: readonly KitComponent[], availableOf: (sku: string) => number): number {
  if (components.length === 0) return 0;
  return Math.min(
    ...components.map((component) => Math.floor(Math.max(0, availableOf(component.sku)) / component.qty)),
  );
}

/** The units of each component `kits` kits take. */
export const componentUnits = (kit: Kit, kits: number): { sku: string; qty: number }[] =>
  kit.components.map((component) => ({ sku: component.sku, qty: component.qty * kits }));

/** One line of a reservation as it is stored: a kit's line, one of its components' lines, or a plain line. */
export interface StoredLine {
  line_no: number;
  qty: number;
  /** the kit line this component line belongs to; null for a kit's own line and for plain lines */
  kit_line_no: number | null;
}

/**
 * Adds to picks of kit lines (so many kits shipped or given back) the same share of their component lines: a
 * component line of a kit line holds qty ÷ kit qty units per kit. Picks naming component lines directly are not
 * expected (callers pick among the lines shown, where components are nested in their kit).
 */
export function withComponentPicks(
  picks: readonly { line_no: number; qty: number }[],
  lines: readonly StoredLine[],
): { line_no: number; qty: number }[] {
  const components = lines.filter((line) => line.kit_line_no !== null);
  if (components.length === 0) return [...picks];
  const byNo = new Map(lines.map((line) => [line.line_no, line]));
  const out = [...picks];
  for (const pick of picks) {
    const kitLine = byNo.get(pick.line_no);
    if (!kitLine) continue;
    for (const component of components) {
      if (component.kit_line_no !== pick.line_no) continue;
      out.push({ line_no: component.line_no, qty: (component.qty / kitLine.qty) * pick.qty });
    }
  }
  return out.sort((first, second) => first.line_no - second.line_no);
}

/** Whether a stored line is a component's line of a kit (shown nested in its kit's line, never alone). */
export const isComponentLine = (line: { kit_line_no: number | null }): boolean => line.kit_line_no !== null;

/** The kit variant a component line's units move for (named on its ledger rows); null for any other line. */
export function kitVariantOf(
  line: { kit_line_no: number | null },
  lines: readonly { line_no: number; variant_id: number }[],
): number | null {
  if (line.kit_line_no === null) return null;
  return lines.find((other) => other.line_no === line.kit_line_no)?.variant_id ?? null;
}
