import { ValidationError } from '../domain/errors.js';
import { checkNamedPick, planPick } from '../domain/locations.js';
import type { Stop } from '../domain/locations.js';
import type { Queryable } from '../store/db.js';
import { changeLocations, readLocationHoldings } from '../store/locations.js';
import type { LocationChange, LocationHolding } from '../store/locations.js';
import type { MovementInput } from '../store/levels.js';

/** A reservation line as picking needs it. */
export interface PickLine {
  line_no: number;
  variant_id: number;
  warehouse_id: number;
  sku: string;
  warehouse: string;
  remaining: number;
}

/** A request line of a fulfilment that may name the locations to pick from. */
export interface NamedPickLine {
  sku: string;
  warehouse?: string | undefined;
  locations?: Stop[] | undefined;
}

/** Part of a shipment: units out of one location (or, binId null, out of units put away nowhere). */
export interface PickPart {
  binId: number | null;
  location: string | null;
  qty: number;
}

const key = (variantId: number, warehouseId: number): string => `${variantId}:${warehouseId}`;

/**
 * What the locations of some levels hold, read under the levels' locks, and taken down as the shipments of a
 * group are decided: each reservation's picks see what the ones before it took. A fulfilment takes its units
 * out of exactly the locations its pick list names (or those its caller names, checked), and its ledger rows say
 * which (one row per location).
 */
export class Picking {
  private readonly holdings = new Map<string, LocationHolding[]>();
  private readonly taken: LocationChange[] = [];

  private constructor(rows: readonly LocationHolding[]) {
    for (const row of rows) {
      const level = key(row.variant_id, row.warehouse_id);
      this.holdings.set(level, [...(this.holdings.get(level) ?? []), { ...row }]);
    }
  }

  /** The holdings of these levels; call with the levels locked. */
  static async read(tx: Queryable, levels: readonly { variantId: number; warehouseId: number }[]): Promise<Picking> {
    return new Picking(await readLocationHoldings(tx, levels));
  }

  /**
   * Where the units of some shipments of one reservation come from, decided together and taken only if every one
   * can be: the pick list's locations, or the ones the request names for a line (refused unless they hold it).
   */
  plan(
    shipments: readonly { line: PickLine; qty: number }[],
    request: readonly NamedPickLine[] | undefined,
    openLines: readonly PickLine[],
  ): PickPart[][] {
    const named = namedByLine(request, openLines);
    const left = new Map<string, LocationHolding[]>();
    const holdingsOf = (line: PickLine): LocationHolding[] => {
      const level = key(line.variant_id, line.warehouse_id);
      const copy = left.get(level) ?? (this.holdings.get(level) ?? []).map((holding) => ({ ...holding }));
      left.set(level, copy);
      return copy;
    };
    const parts = shipments.map(({ line, qty }) => {
      const holdings = holdingsOf(line);
      const asked = named.get(line.line_no);
      const { stops, unlocated } = asked
        ? { stops: checkNamedPick(holdings, asked.stops, qty, asked.path), unlocated: 0 }
        : planPick(holdings, qty);
      const out: PickPart[] = stops.map((stop) => {
        const holding = holdings.find((candidate) => candidate.location === stop.location) as LocationHolding;
        holding.qty -= stop.qty;
        return { binId: holding.bin_id, location: stop.location, qty: stop.qty };
      });
      return unlocated > 0 ? [...out, { binId: null, location: null, qty: unlocated }] : out;
    });
    // every shipment could be planned: what they take is gone for the reservations after this one
    for (const [level, holdings] of left) this.holdings.set(level, holdings);
    shipments.forEach(({ line }, i) => {
      for (const part of parts[i] ?? [])
        if (part.binId !== null) this.taken.push({ binId: part.binId, variantId: line.variant_id, qty: -part.qty });
    });
    return parts;
  }

  /** Takes what the shipments planned so far take out of their locations (before the levels drop). */
  async takeOut(tx: Queryable, at: Date): Promise<void> {
    await changeLocations(tx, this.taken, at);
  }
}

/**
 * A shipment's movement split by the locations its units come from: one ledger row each, naming it. `onHand` is
 * the level's on hand before the shipment; each part's row carries the number it leaves.
 */
export function movesByLocation<Move extends MovementInput & { onHandAfter?: number }>(
  move: Move,
  parts: readonly PickPart[],
  onHand: number,
): Move[] {
  let left = onHand;
  return parts.map((part) => {
    left -= part.qty;
    return {
      ...move,
      deltaOnHand: -part.qty,
      deltaReserved: move.deltaReserved === 0 ? 0 : -part.qty,
      onHandAfter: left,
      ...(part.binId === null ? {} : { binId: part.binId, binDelta: -part.qty }),
    };
  });
}

/** The locations a request names, by the reservation line they are for. */
function namedByLine(
  request: readonly NamedPickLine[] | undefined,
  lines: readonly PickLine[],
): Map<number, { stops: Stop[]; path: string }> {
  const named = new Map<number, { stops: Stop[]; path: string }>();
  (request ?? []).forEach((want, i) => {
    if (!want.locations) return;
    const candidates = lines.filter(
      (line) =>
        line.sku === want.sku &&
        (want.warehouse === undefined || line.warehouse === want.warehouse) &&
        line.remaining > 0,
    );
    if (candidates.length > 1)
      throw ValidationError.field(
        `/lines/${i}/warehouse`,
        `${want.sku} is held in several warehouses: name the one its locations are in`,
      );
    const line = candidates[0];
    if (!line) return; // planFulfilment refuses a SKU that is not on the reservation, or settled
    const before = named.get(line.line_no);
    named.set(line.line_no, { stops: [...(before?.stops ?? []), ...want.locations], path: `/lines/${i}` });
  });
  return named;
}
