/** How many a list matched: a total the server stopped counting at (total_exact false) says so with a +. */
export const matched = (page: { total?: number; total_exact?: boolean }, shown: number): string =>
  `${(page.total ?? shown).toLocaleString('en')}${page.total_exact === false ? '+' : ''}`;
