/**
 * What an API key may do. storefront reads availability; checkout holds and ships orders; warehouse moves
 * physical stock; metrics reads /metrics (for a scraper); admin does everything, including keys and the catalog.
 */
export const SCOPES = ['storefront', 'checkout', 'warehouse', 'metrics', 'admin'] as const;
/** One of SCOPES. */
export type Scope = (typeof SCOPES)[number];

/** Whether a string names a scope: for checking the scopes a key is created with. */
export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

/** Whether a key with `granted` scopes may do what needs any one of `needed`. */
export function allows(granted: readonly string[], needed: readonly Scope[]): boolean {
  return granted.includes('admin') || needed.some((scope) => granted.includes(scope));
}
