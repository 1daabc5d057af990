import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

// uuid's v7() asks the crypto module for 16 random bytes per id, 3.7 µs each (a fortieth of a reservation's server
// CPU, bench/README.md); drawn here 4 KiB at a time, as node's own randomUUID draws its bytes, 0.2 µs an id
const pool = new Uint8Array(4096);
let drawn = pool.length;

// what uuid's v7() keeps between calls, kept here since it is given the bytes: the millisecond of the last id and
// a counter within it that starts at a random value, so ids made in one millisecond still sort in the order made
const last = { msecs: -Infinity, seq: 0 };

/**
 * A new time-ordered id (UUIDv7, RFC 9562): a millisecond timestamp, a counter within the millisecond, and 62 random
 * bits, 74 unpredictable in all. Ids made one after the other in one process sort in the order made; a new id goes
 * to the right edge of its indexes instead of a random page of each.
 */
export function timeOrderedUuid(): string {
  if (drawn + 16 > pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  const random = pool.subarray(drawn, (drawn += 16));
  const now = Date.now();
  if (now > last.msecs) {
    last.msecs = now;
    // 31 random bits, as uuid starts a millisecond's counter
    last.seq =
      ((random[6] ?? 0) & 0x7f) * 0x1000000 + (random[7] ?? 0) * 0x10000 + (random[8] ?? 0) * 0x100 + (random[9] ?? 0);
  } else {
    // the counter's 31 bits ran out: the next millisecond's ids begin (as uuid does), still after these
    last.seq = (last.seq + 1) | 0;
    if (last.seq === 0) last.msecs++;
  }
  return v7({ random, msecs: last.msecs, seq: last.seq });
}
