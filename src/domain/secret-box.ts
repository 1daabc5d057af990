import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SecretsUnreadableError, ValidationError } from './errors.js';

/**
 * Encryption at rest of channel and sync source secrets, with a key the server is given (STOCKROOM_SECRET_KEY) and
 * the database never sees: AES-256-GCM, a fresh IV per value, the auth tag checked on opening. Optional: without a
 * key, secrets are stored as given (in their own column, never shown).
 */

/** What a sealed value looks like in the secrets column: `{ "sealed": "v1.<iv>.<tag>.<ciphertext>" }` (base64url). */
const VERSION = 'v1';

/** A 256-bit key from the operator's secret (16 or more characters; a long random one is best). */
export function secretKeyFrom(text: string, from = '/env/STOCKROOM_SECRET_KEY'): Buffer {
  if (text.length < 16) throw ValidationError.field(from, 'must be at least 16 characters long');
  return createHash('sha256').update(`stockroom-secret-key:${text}`).digest();
}

/** Encrypts a channel's secrets into the one value stored for them; each call uses a fresh IV. */
export function seal(key: Buffer, secrets: Record<string, string>): Record<string, string> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return {
    sealed: [
      VERSION,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      data.toString('base64url'),
    ].join('.'),
  };
}

/** The secrets as given: sealed ones opened with `key`, ones stored before a key was set as they are. */
export function open(key: Buffer | undefined, stored: Record<string, string>): Record<string, string> {
  const sealed = stored['sealed'];
  if (sealed === undefined) return stored;
  if (!key)
    throw new SecretsUnreadableError(
      'the stored secrets are encrypted: set STOCKROOM_SECRET_KEY to the key they were sealed with',
    );
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || data === undefined)
    throw new SecretsUnreadableError('the stored secrets are not in a form this version reads');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Record<string, string>;
  } catch {
    throw new SecretsUnreadableError(
      'the stored secrets cannot be opened with STOCKROOM_SECRET_KEY (another key sealed them, or they were changed)',
    );
  }
}

/** One secret sealed on its own (a sync source's signing secret): the text stored for it. */
export function sealOne(key: Buffer, secret: string): string {
  const sealed = seal(key, { secret })['sealed'];
  if (sealed === undefined) throw new Error('seal() gave no sealed value');
  return sealed;
}

/** A secret sealOne stored, opened with `key` (refused as open() refuses). */
export function openOne(key: Buffer | undefined, sealed: string): string {
  const secret = open(key, { sealed })['secret'];
  if (secret === undefined) throw new SecretsUnreadableError('the stored secret is not in a form this version reads');
  return secret;
}

/**
 * What a value stored with `open`'s rules becomes under `key`: sealed with it, from as given (stored before a key
 * was set) or sealed with `previous`; undefined when it is sealed with `key` already, or holds nothing. Refused
 * when neither key opens it (SecretsUnreadableError; without `previous`, a ValidationError asking for it):
 * re-sealing never loses a secret.
 */
export function resealed(
  key: Buffer,
  previous: Buffer | undefined,
  stored: Record<string, string>,
): Record<string, string> | undefined {
  if (stored['sealed'] === undefined) return Object.keys(stored).length === 0 ? undefined : seal(key, stored);
  if (opens(key, stored)) return undefined;
  if (previous === undefined)
    throw ValidationError.field(
      '/env/STOCKROOM_PREVIOUS_SECRET_KEY',
      'some secrets are sealed with another key than STOCKROOM_SECRET_KEY: set this to the key they were sealed with',
    );
  if (!opens(previous, stored))
    throw new SecretsUnreadableError('neither STOCKROOM_SECRET_KEY nor STOCKROOM_PREVIOUS_SECRET_KEY opens it');
  return seal(key, open(previous, stored));
}

/** Whether `key` opens a sealed value. */
export function opens(key: Buffer, stored: Record<string, string>): boolean {
  try {
    open(key, stored);
    return true;
  } catch (error) {
    if (error instanceof SecretsUnreadableError) return false;
    throw error;
  }
}
