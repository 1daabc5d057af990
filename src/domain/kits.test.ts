import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { checkKit, kitVariantOf, kitsAvailable, withComponentPicks } from './kits.js';
import type { ComponentFacts } from './kits.js';

const tracked: ComponentFacts = { tracked: true, kit: false };

describe('checkKit', () => {
  it('accepts tracked components with positive quantities and names unknown ones', () => {
    const facts = new Map([['MUG', tracked]]);
    expect(
      checkKit(
        {
          sku: 'BOX',
          components: [
            { sku: 'MUG', qty: 2 },
            { sku: 'NEW', qty: 1 },
          ],
        },
        facts,
      ),
    ).toEqual(['NEW']);
  });

  it('refuses the kit inside itself, a kit inside a kit, untracked components, repeats and quantities not positive', () => {
    const facts = new Map<string, ComponentFacts>([
      ['MUG', tracked],
      ['INNER', { tracked: true, kit: true }],
      ['SERVICE', { tracked: false, kit: false }],
    ]);
    const refusal = (components: { sku: string; qty: number }[]) => {
      try {
        checkKit({ sku: 'BOX', components }, facts);
      } catch (error) {
        return error instanceof ValidationError ? error.errors.map((e) => e.path) : error;
      }
      return 'accepted';
    };
    expect(refusal([{ sku: 'BOX', qty: 1 }])).toEqual(['/components/0/sku']);
    expect(refusal([{ sku: 'INNER', qty: 1 }])).toEqual(['/components/0/sku']);
    expect(refusal([{ sku: 'SERVICE', qty: 1 }])).toEqual(['/components/0/sku']);
    expect(refusal([{ sku: 'MUG', qty: 0 }])).toEqual(['/components/0/qty']);
    expect(
      refusal([
        { sku: 'MUG', qty: 1 },
        { sku: 'MUG', qty: 1 },
      ]),
    ).toEqual(['/components/1/sku']);
    expect(refusal([])).toEqual(['/components']);
  });
});

describe('kitsAvailable', () => {
  const components = [
    { sku: 'MUG', qty: 2 },
    { sku: 'COFFEE', qty: 1 },
  ];
  it('is the least over components of available ÷ quantity, rounded down', () => {
    const available = new Map([
      ['MUG', 7],
      ['COFFEE', 5],
    ]);
    expect(kitsAvailable(components, (sku) => available.get(sku) ?? 0)).toBe(3);
  });
  it('is zero when a component has nothing available, or less than nothing', () => {
    expect(kitsAvailable(components, (sku) => (sku === 'MUG' ? 10 : -3))).toBe(0);
    expect(kitsAvailable([], () => 10)).toBe(0);
  });
});

describe('withComponentPicks', () => {
  const lines = [
    { line_no: 1, qty: 1, kit_line_no: null, variant_id: 10 },
    { line_no: 2, qty: 3, kit_line_no: null, variant_id: 20 },
    { line_no: 3, qty: 6, kit_line_no: 2, variant_id: 30 },
    { line_no: 4, qty: 3, kit_line_no: 2, variant_id: 40 },
  ];
  it('adds to a kit line pick its components, in proportion', () => {
    expect(withComponentPicks([{ line_no: 2, qty: 2 }], lines)).toEqual([
      { line_no: 2, qty: 2 },
      { line_no: 3, qty: 4 },
      { line_no: 4, qty: 2 },
    ]);
  });
  it('leaves plain picks as they are', () => {
    expect(withComponentPicks([{ line_no: 1, qty: 1 }], lines)).toEqual([{ line_no: 1, qty: 1 }]);
  });
  it('names the kit variant of a component line only', () => {
    expect(lines.map((line) => kitVariantOf(line, lines))).toEqual([null, null, 20, 20]);
  });
});
