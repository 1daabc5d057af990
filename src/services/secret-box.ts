import { SecretsUnreadableError, ValidationError } from '../domain/errors.js';
import { resealed, secretKeyFrom } from '../domain/secret-box.js';
import { lockChannelSecrets, setChannelSecrets } from '../store/channels.js';
import { lockSyncSecrets, setSyncSecretSealed } from '../store/sync-sources.js';
import type { ServiceContext } from './context.js';

/**
 * What re-sealing did, of the channels (removed ones too) and the sync sources with secrets: sealed anew, left as
 * they were (sealed with the key already, or holding none), and removed channels neither key opens, left as they
 * are (they never send again).
 */
export interface ResealReport {
  channels: { resealed: number; already: number; removed_unreadable: number };
  sync_sources: { resealed: number; already: number };
}

/** The secrets stockroom keeps sealed at rest (STOCKROOM_SECRET_KEY): channel secrets, sync source secrets. */
export class SecretService {
  /** @param secretKey the key secrets are sealed with now (STOCKROOM_SECRET_KEY) */
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secretKey?: Buffer,
  ) {}

  /**
   * `stockroom secrets reseal`: every stored secret sealed with the current key, from the previous key (the one the
   * key is rotated from) or from as given (stored before a key was set). One transaction: a secret neither key
   * opens refuses the whole, naming its channel or source, and nothing changes; but a removed channel's, which is
   * never sent with again, is left as it is. Secrets sealed with the current key already stay as they are, so it
   * may be run again.
   * @param previousKey STOCKROOM_PREVIOUS_SECRET_KEY, the key being rotated from
   */
  async reseal(previousKey?: string): Promise<ResealReport> {
    const key = this.secretKey;
    if (key === undefined)
      throw ValidationError.field('/env/STOCKROOM_SECRET_KEY', 'is the key to seal the secrets with: set it');
    const previous =
      previousKey === undefined ? undefined : secretKeyFrom(previousKey, '/env/STOCKROOM_PREVIOUS_SECRET_KEY');
    return this.ctx.db.transaction(async (tx) => {
      const report: ResealReport = {
        channels: { resealed: 0, already: 0, removed_unreadable: 0 },
        sync_sources: { resealed: 0, already: 0 },
      };
      for (const channel of await lockChannelSecrets(tx)) {
        let secrets: Record<string, string> | undefined;
        try {
          secrets = resealed(key, previous, channel.secrets);
        } catch (error) {
          if (!channel.active && error instanceof SecretsUnreadableError) {
            report.channels.removed_unreadable++;
            continue;
          }
          throw named(error, `channel ${channel.id}`);
        }
        if (secrets === undefined) report.channels.already++;
        else {
          await setChannelSecrets(tx, channel.id, secrets);
          report.channels.resealed++;
        }
      }
      for (const source of await lockSyncSecrets(tx)) {
        // stored as sealOne stores it (the sealed text alone), or as given: either way one secret, sealed anew as one
        let sealed: string | undefined;
        try {
          sealed = resealed(
            key,
            previous,
            source.secret_sealed === null ? { secret: source.secret ?? '' } : { sealed: source.secret_sealed },
          )?.['sealed'];
        } catch (error) {
          throw named(error, `sync source ${source.name}`);
        }
        if (sealed === undefined) report.sync_sources.already++;
        else {
          await setSyncSecretSealed(tx, source.name, sealed);
          report.sync_sources.resealed++;
        }
      }
      return report;
    });
  }
}

/** An unreadable secret's refusal, naming whose it is (never its value). */
function named(error: unknown, whose: string): unknown {
  return error instanceof SecretsUnreadableError
    ? new SecretsUnreadableError(`the secrets of ${whose}: ${error.message}`)
    : error;
}
