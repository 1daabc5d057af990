import { expect } from 'vitest';

/** Fails on the first of `secrets` that `text` still shows: a message, log or record must keep every one out. */
export function expectNoSecretIn(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}
