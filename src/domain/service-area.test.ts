import { describe, expect, it } from 'vitest';
import { serves } from './service-area.js';

const amsterdam = { lat: 52.37, lon: 4.9 };
const berlin = { lat: 52.52, lon: 13.4 };

describe('which warehouses serve a shopper', () => {
  const eu = { regions: ['EU', 'UK'], serves_within_km: null, ...amsterdam };

  it('a warehouse serves the regions it lists, in any case, and no others', () => {
    expect(serves(eu, { region: 'eu' })).toBe(true);
    expect(serves(eu, { region: 'UK' })).toBe(true);
    expect(serves(eu, { region: 'US' })).toBe(false);
  });

  it('a warehouse that lists no regions serves every region', () => {
    expect(serves({ ...eu, regions: [] }, { region: 'US' })).toBe(true);
  });

  it('a delivery radius counts shoppers within it only; without one, any distance', () => {
    const local = { ...eu, serves_within_km: 600 };
    expect(serves(local, { ship_to: berlin })).toBe(true); // about 577 km
    expect(serves({ ...local, serves_within_km: 500 }, { ship_to: berlin })).toBe(false);
    expect(serves(eu, { ship_to: berlin })).toBe(true);
  });

  it('both must hold when both are given; a shopper who says nothing is served', () => {
    expect(serves({ ...eu, serves_within_km: 500 }, { region: 'EU', ship_to: berlin })).toBe(false);
    expect(serves({ ...eu, serves_within_km: 500 }, {})).toBe(true);
  });
});
