import { InvalidTransitionError, ValidationError } from './errors.js';
import type { ReservationStatus } from './reservation.js';

/**
 * Changing a reservation after checkout: amending its lines and deadline, giving back part of it, moving a
 * line to another warehouse, undoing a shipment. Pure rules here; the service applies them on locked levels.
 */

/** The statuses a reservation can still be changed in: those that hold stock. */
export const CHANGEABLE_STATUSES = ['pending', 'committed', 'partially_fulfilled'] as const;

/** Refuses a change of a reservation that no longer holds stock (fulfilled, released, expired). */
export function assertChangeable(status: ReservationStatus, action: string): void {
  if (!(CHANGEABLE_STATUSES as readonly ReservationStatus[]).includes(status))
    throw new InvalidTransitionError(status, action);
}

/** A reservation line as these rules see it. */
export interface ChangeableLine {
  line_no: number;
  sku: string;
  warehouse: string;
  qty: number;
  fulfilled_qty: number;
  released_qty: number;
}

/** Units of a line still held: neither shipped nor given back. */
export const openUnits = (line: ChangeableLine): number => line.qty - line.fulfilled_qty - line.released_qty;

/**
 * The status a changed reservation is left in. With nothing left open it is closed: `fulfilled` if the change
 * leaves it shipped in part and is not a cancellation, else `released`. With units open it is partially
 * fulfilled while anything has shipped, else pending (if it was) or committed.
 */
export function statusAfterChange(
  from: ReservationStatus,
  lines: readonly ChangeableLine[],
  emptied: 'released' | 'fulfilled',
): ReservationStatus {
  const open = lines.reduce((sum, line) => sum + openUnits(line), 0);
  const shipped = lines.reduce((sum, line) => sum + line.fulfilled_qty, 0);
  if (open === 0) return shipped > 0 && emptied === 'fulfilled' ? 'fulfilled' : 'released';
  if (shipped > 0) return 'partially_fulfilled';
  return from === 'pending' ? 'pending' : 'committed';
}

/** One line of an amendment: the SKU's new quantity (shipped units count toward it; 0 gives back all it holds). */
export interface AmendRequestLine {
  sku: string;
  qty: number;
  /** which line, when the SKU is held in several warehouses; for a new line, the warehouse to hold it in */
  warehouse?: string | undefined;
}

/** What an amendment does to the lines: units held more (+) or given back (-) per line, and lines to add. */
export interface AmendmentPlan {
  resize: { line_no: number; delta: number }[];
  /** new lines, routed like a reservation (to the warehouse named, if one is) */
  add: { index: number; sku: string; qty: number; warehouse?: string | undefined }[];
}

/**
 * Which lines an amendment changes and by how much. A line is named by its SKU, and by its warehouse when the
 * SKU is held in more than one; a SKU (or SKU and warehouse) not on the reservation is a new line. A line may
 * not go below what it has shipped. Refused whole (ValidationError naming the line) on any bad line.
 */
export function planAmendment(lines: readonly ChangeableLine[], request: readonly AmendRequestLine[]): AmendmentPlan {
  const plan: AmendmentPlan = { resize: [], add: [] };
  const named = new Set<string>();
  request.forEach((want, index) => {
    const key = `${want.sku}\u0000${want.warehouse ?? ''}`;
    const bySku = lines.filter((line) => line.sku === want.sku);
    const matching = bySku.filter((line) => want.warehouse === undefined || line.warehouse === want.warehouse);
    // a line given back in full (a move away, a release) holds nothing left to change: among several, the SKU is
    // named by the lines that still hold or shipped units
    const live = matching.filter((line) => line.qty - line.released_qty > 0);
    const candidates = want.warehouse === undefined && matching.length > 1 && live.length > 0 ? live : matching;
    const line = candidates[0];
    const seen = line === undefined ? `new ${key}` : `line ${line.line_no}`;
    if (named.has(seen)) throw ValidationError.field(`/lines/${index}/sku`, `${want.sku} is named twice`);
    named.add(seen);
    if (line === undefined) {
      if (want.qty === 0) {
        const where = want.warehouse === undefined ? '' : ` at warehouse ${want.warehouse}`;
        throw ValidationError.field(`/lines/${index}/sku`, `${want.sku}${where} is not on this reservation`);
      }
      plan.add.push({ index, sku: want.sku, qty: want.qty, warehouse: want.warehouse });
      return;
    }
    if (candidates.length > 1) {
      const where = candidates.map((candidate) => candidate.warehouse).join(', ');
      throw ValidationError.field(`/lines/${index}/warehouse`, `${want.sku} is held in ${where}: name the warehouse`);
    }
    if (want.qty < line.fulfilled_qty) {
      throw ValidationError.field(
        `/lines/${index}/qty`,
        `${want.qty} is below the ${line.fulfilled_qty} unit${line.fulfilled_qty === 1 ? '' : 's'} of ${want.sku} already shipped`,
      );
    }
    const delta = want.qty - (line.qty - line.released_qty);
    if (delta !== 0) plan.resize.push({ line_no: line.line_no, delta });
  });
  return plan;
}

/** A move of held units of one SKU to another warehouse. */
export interface MoveRequest {
  sku: string;
  /** default: every unit of the SKU held elsewhere (or at `from`) */
  qty?: number | undefined;
  from?: string | undefined;
  to: string;
}

/**
 * Which lines give up how many held units for a move: lines of the SKU not already at `to` (only the one at
 * `from`, if named), in line order. Refused whole when the SKU is not held elsewhere or not that many units are.
 * @param at where the request's fields are, for the error's path ('' for a move, '/lines/2' in a fulfilment)
 */
export function planMove(
  lines: readonly ChangeableLine[],
  request: MoveRequest,
  at = '',
): { line_no: number; qty: number }[] {
  if (request.from !== undefined && request.from === request.to)
    throw ValidationError.field(`${at}/to`, `the units are already at ${request.to}`);
  const sources = lines.filter(
    (line) =>
      line.sku === request.sku &&
      line.warehouse !== request.to &&
      (request.from === undefined || line.warehouse === request.from),
  );
  if (sources.length === 0) {
    const where = request.from === undefined ? ` outside ${request.to}` : ` at warehouse ${request.from}`;
    throw ValidationError.field(`${at}/sku`, `${request.sku} is not held on this reservation${where}`);
  }
  const open = sources.reduce((sum, line) => sum + openUnits(line), 0);
  if (open === 0) throw new InvalidTransitionError('settled', 'move', `line of ${request.sku}`);
  const qty = request.qty ?? open;
  if (qty > open)
    throw ValidationError.field(
      `${at}/qty`,
      `${qty} exceeds the ${open} unit${open === 1 ? '' : 's'} of ${request.sku} held to move`,
    );
  const picks: { line_no: number; qty: number }[] = [];
  let rest = qty;
  for (const line of sources) {
    const take = Math.min(rest, openUnits(line));
    if (take > 0) picks.push({ line_no: line.line_no, qty: take });
    rest -= take;
    if (rest === 0) break;
  }
  return picks;
}
