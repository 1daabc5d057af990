import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { open, resealed, seal, secretKeyFrom } from './secret-box.js';

describe('channel secrets sealed at rest', () => {
  const key = secretKeyFrom('a-long-random-operator-secret-0123');
  const secrets = { url: 'https://hooks.slack.com/services/T0/B0/tokenTokenToken', bot_token: '123:abc' };

  it('seal to a value that holds none of them, and open to what was sealed, with the same key only', () => {
    const sealed = seal(key, secrets);
    expect(Object.keys(sealed)).toEqual(['sealed']);
    expect(JSON.stringify(sealed)).not.toContain('tokenTokenToken');
    expect(seal(key, secrets)).not.toEqual(sealed); // a fresh IV each time
    expect(open(key, sealed)).toEqual(secrets);
    expect(() => open(secretKeyFrom('another-operator-secret-0123456'), sealed)).toThrow('cannot be opened');
    expect(() => open(undefined, sealed)).toThrow('set STOCKROOM_SECRET_KEY');
  });

  it('refuse a sealed value that was changed, and pass through secrets stored before a key was set', () => {
    const [version, iv, tag, data] = (seal(key, secrets)['sealed'] ?? '').split('.');
    const flipped = `${(data ?? '').startsWith('A') ? 'B' : 'A'}${(data ?? '').slice(1)}`;
    expect(() => open(key, { sealed: [version, iv, tag, flipped].join('.') })).toThrow('cannot be opened');
    expect(open(key, secrets)).toEqual(secrets);
    expect(() => secretKeyFrom('short')).toThrow('at least 16 characters');
  });

  it('reseal what the previous key sealed or no key did, leave what the new key sealed, lose nothing', () => {
    const next = secretKeyFrom('the-next-operator-secret-456789');
    const underOld = seal(key, secrets);
    const underNew = seal(next, secrets);
    expect(open(next, resealed(next, key, underOld) ?? {})).toEqual(secrets);
    expect(open(next, resealed(next, undefined, secrets) ?? {})).toEqual(secrets); // stored before a key was set
    expect(resealed(next, key, underNew)).toBeUndefined();
    expect(resealed(next, undefined, {})).toBeUndefined(); // nothing to seal
    expect(() => resealed(next, undefined, underOld)).toThrow(ValidationError);
    expect(() => resealed(next, secretKeyFrom('neither-of-the-two-keys-0000'), underOld)).toThrow('neither');
  });
});
