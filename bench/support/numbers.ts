export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/** The p-th percentile (0..100) of samples, by nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
