import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/domain/errors.js';

/** The rows of the error-code table in docs/api.md: status, code and title as the page states them. */
function documentedErrorCodes(): Record<string, { status: number; title: string }> {
  const page = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
  const rows = [...page.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|\s*([^|]*?)\s*\|/gm)];
  return Object.fromEntries(
    rows.map(([, status, code, title]): [string, { status: number; title: string }] => [
      String(code),
      { status: Number(status), title: String(title) },
    ]),
  );
}

describe('docs/api.md, the HTTP contract', () => {
  it('lists every error code with the status and title the service answers, and no other', () => {
    expect(documentedErrorCodes()).toEqual(ERROR_CODES);
  });
});
