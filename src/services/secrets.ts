import { ValidationError } from '../domain/errors.js';
import { resealed, secretKeyFrom } from '../domain/secret-box.js';
import { lockChannelSecrets, setChannelSecrets } from '../store/channels.js';
import { lockSyncSecrets, setSyncSecretSealed } from '../store/sync-sources.js';
import type { ServiceContext } from './context.js';

/** What re-sealing did: of the channels (removed ones too) and sync sources with secrets, how many it sealed anew. */
export interface ResealReport {
  channels: { resealed: number; already: number };
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
   * opens refuses the whole, and nothing changes. Secrets sealed with the current key already stay as they are, so
   * it may be run again.
   * @param previousKey STOCKROOM_PREVIOUS_SECRET_KEY, the key being rotated from
   */
  async reseal(previousKey?: string): Promise<ResealReport> {
    const key = this.secretKey;
    if (key === undefined)
      throw ValidationError.field('/env/STOCKROOM_SECRET_KEY', 'is the key to seal the secrets with: set it');
    const previous = previousKey === undefined ? undefined : secretKeyFrom(previousKey);
    return this.ctx.db.transaction(async (tx) => {
      const report: ResealReport = { channels: { resealed: 0, already: 0 }, sync_sources: { resealed: 0, already: 0 } };
      for (const channel of await lockChannelSecrets(tx)) {
        const secrets = resealed(key, previous, channel.secrets);
        if (secrets === undefined) {
          report.channels.already++;
          continue;
        }
        await setChannelSecrets(tx, channel.id, secrets);
        report.channels.resealed++;
      }
      for (const source of await lockSyncSecrets(tx)) {
        // stored as sealOne stores it (the sealed text alone), or as given: either way one secret, sealed anew as one
        const sealed = resealed(
          key,
          previous,
          source.secret_sealed === null ? { secret: source.secret ?? '' } : { sealed: source.secret_sealed },
        )?.['sealed'];
        if (sealed === undefined) {
          report.sync_sources.already++;
          continue;
        }
        await setSyncSecretSealed(tx, source.name, sealed);
        report.sync_sources.resealed++;
      }
      return report;
    });
  }
}
