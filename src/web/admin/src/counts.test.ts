import { describe, expect, it } from 'vitest';
import { matched } from './counts.js';

describe('matched', () => {
  it('shows a total the server stopped counting at with a +, an exact one as it is', () => {
    expect(matched({ total: 10_000, total_exact: false }, 50)).toBe('10,000+');
    expect(matched({ total: 12, total_exact: true }, 12)).toBe('12');
    expect(matched({}, 3)).toBe('3');
  });
});
