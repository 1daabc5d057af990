import type { ChannelKind } from '../domain/delivery.js';
import type { Queryable } from './db.js';

/** A channel as stored: what it wants, what may be shown, and its secrets kept apart. */
export interface ChannelRow {
  id: number;
  kind: ChannelKind;
  name: string | null;
  events: string[];
  /** what may be shown: never a URL, token or password (those are in the secrets column, read only to send) */
  config: Record<string, string>;
  /** URLs, tokens, passwords, as stored (sealed with STOCKROOM_SECRET_KEY if set): never shown, only redacted */
  secrets: Record<string, string>;
  /** a webhook that takes its events in batches (migration 0019) */
  batch: boolean;
  created_at: Date;
}

const COLUMNS = 'id, kind, name, events, config, secrets, batch, created_at';

/** Adds an active channel. */
export async function insertChannel(
  tx: Queryable,
  channel: {
    kind: ChannelKind;
    name: string | null;
    events: readonly string[];
    config: Record<string, string>;
    secrets: Record<string, string>;
    batch: boolean;
  },
): Promise<ChannelRow> {
  const { rows } = await tx.query<ChannelRow>(
    `INSERT INTO channels (kind, name, events, config, secrets, batch) VALUES ($1, $2, $3::text[], $4::jsonb, $5::jsonb, $6) RETURNING ${COLUMNS}`,
    [
      channel.kind,
      channel.name,
      channel.events,
      JSON.stringify(channel.config),
      JSON.stringify(channel.secrets),
      channel.batch,
    ],
  );
  return rows[0] as ChannelRow;
}

/** Active channels, oldest first, optionally of one kind. */
export async function listChannels(db: Queryable, kind?: ChannelKind): Promise<ChannelRow[]> {
  const { rows } = await db.query<ChannelRow>(
    `SELECT ${COLUMNS} FROM channels WHERE active AND ($1::text IS NULL OR kind = $1) ORDER BY id`,
    [kind ?? null],
  );
  return rows;
}

/**
 * Stops a channel: it receives no new events, and its pending deliveries and dead letters are cancelled (never
 * sent again); they and their tries stay in the log. Two statements in the caller's transaction: the first waits
 * for a dispatch that holds the channel (dispatchOutbox locks it), so the second sees what that dispatch added.
 * @returns false if there was none
 */
export async function removeChannel(tx: Queryable, id: number, kind?: ChannelKind): Promise<boolean> {
  const { rows } = await tx.query(
    `UPDATE channels SET active = false, removed_at = now() WHERE id = $1 AND active AND ($2::text IS NULL OR kind = $2) RETURNING id`,
    [id, kind ?? null],
  );
  if (rows.length === 0) return false;
  await tx.query(`UPDATE deliveries SET status = 'cancelled' WHERE channel_id = $1 AND status IN ('pending', 'dead')`, [
    id,
  ]);
  return true;
}

/** Every channel's stored secrets, removed channels' too, locked for re-sealing; in id order. */
export async function lockChannelSecrets(
  tx: Queryable,
): Promise<(Pick<ChannelRow, 'id' | 'secrets'> & { active: boolean })[]> {
  const { rows } = await tx.query<Pick<ChannelRow, 'id' | 'secrets'> & { active: boolean }>(
    'SELECT id, secrets, active FROM channels ORDER BY id FOR NO KEY UPDATE',
  );
  return rows;
}

/** Stores a channel's secrets as given (re-sealed: see lockChannelSecrets). */
export async function setChannelSecrets(tx: Queryable, id: number, secrets: Record<string, string>): Promise<void> {
  await tx.query('UPDATE channels SET secrets = $2::jsonb WHERE id = $1', [id, JSON.stringify(secrets)]);
}
