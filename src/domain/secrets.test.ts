import { describe, expect, it } from 'vitest';
import { expectNoSecretIn } from '../../test/support/secrets.js';
import { redact, redactUrl, secretFragments, withoutPassword } from './secrets.js';

describe('redacted URLs', () => {
  it('keep scheme, host and the first path segment; mask credentials, query values and the rest of the path', () => {
    expect(redactUrl('https://hooks.slack.com/services/T0123ABC/B0456DEF/xoxbSecretToken')).toBe(
      'https://hooks.slack.com/services/T0…/B0…/***',
    );
    expect(redactUrl('https://ops:hunter2hunter2@hooks.example.com:8443/in?token=abc123def&v=2')).toBe(
      'https://***@hooks.example.com:8443/***?token=***&v=***',
    );
    expect(redactUrl('https://example.com/')).toBe('https://example.com');
    expect(redactUrl('https://example.com/abcdefSECRET')).toBe('https://example.com/***');
    expect(redactUrl('not a url with a secret in it')).toBe('***');
    // a bare query item is a value without a name; a path ending in / still hides its last segment
    expect(redactUrl('http://127.0.0.1:9/hook?SOLOQUERYSECRET&v=2')).toBe('http://127.0.0.1:9/***?***&v=***');
    expect(redactUrl('http://127.0.0.1:9/hooks/TRAILSLASHSECRET/')).toBe('http://127.0.0.1:9/hooks/***');
  });
});

describe('connection URLs shown to an operator', () => {
  it('keep server, database and settings, and mask the password whole, in the user part or as a parameter', () => {
    expect(withoutPassword('postgres://shop:p@ss@db.example:5432/stock')).toBe(
      'postgres://shop:***@db.example:5432/stock',
    );
    expect(withoutPassword('postgres://shop@db/stock?sslmode=require&Password=hunter2')).toBe(
      'postgres://shop@db/stock?sslmode=require&Password=***',
    );
    expect(withoutPassword('postgres://db/stock')).toBe('postgres://db/stock');
    expect(withoutPassword('not//a:url@x')).toBe('not//***@x');
  });
});

describe('redacting error text', () => {
  it('masks a secret whole, URL-encoded, as a URL part and as Basic credentials, and leaves the rest', () => {
    const url = 'http://user:p%40ssw0rdLong@127.0.0.1:9/bot123456:ABC-def_GHI/x?token=queryTokenSecret';
    const fragments = secretFragments([url, '123456:ABC-def_GHI']);
    const text = [
      `Request cannot be constructed from a URL that includes credentials: ${url}`,
      'password p@ssw0rdLong rejected',
      `token ${encodeURIComponent('123456:ABC-def_GHI')} and queryTokenSecret`,
      `echoed Basic ${Buffer.from('user:p@ssw0rdLong').toString('base64')}`,
    ].join('\n');
    const clean = redact(text, fragments);
    expectNoSecretIn(clean, [
      'p%40ssw0rdLong',
      'p@ssw0rdLong',
      '123456:ABC-def_GHI',
      '123456%3AABC-def_GHI',
      'queryTokenSecret',
      Buffer.from('user:p@ssw0rdLong').toString('base64'),
    ]);
    expect(clean).toContain('Request cannot be constructed from a URL that includes credentials: ***');
    expect(redact('503: busy', fragments)).toBe('503: busy');
  });

  it('masks the last path segment of a URL ending in /, and a bare query item, as a receiver echoes them', () => {
    const fragments = secretFragments([
      'http://127.0.0.1:9/hooks/TRAILSLASHSECRET2/',
      'https://hooks.slack.com/services/T1/B1/SLACKTRAILSECRET/',
      'http://127.0.0.1:9/hook?SOLOQUERYSECRET',
    ]);
    const clean = redact(
      'answered 404: Cannot POST /hooks/TRAILSLASHSECRET2/; Cannot POST /services/T1/B1/SLACKTRAILSECRET/; /hook?SOLOQUERYSECRET',
      fragments,
    );
    expectNoSecretIn(clean, ['TRAILSLASHSECRET2', 'SLACKTRAILSECRET', 'SOLOQUERYSECRET']);
    expect(clean).toContain('answered 404: Cannot POST /');
  });
});

describe('credentials a mail server echoes', () => {
  it('are masked in the base64 forms AUTH PLAIN and AUTH LOGIN send them in', () => {
    const fragments = secretFragments(['smtp://smtpuser:SMTPPASSSECRET@mail.example.com:25']);
    const plain = Buffer.from('\u0000smtpuser\u0000SMTPPASSSECRET').toString('base64');
    const login = [Buffer.from('smtpuser').toString('base64'), Buffer.from('SMTPPASSSECRET').toString('base64')];
    const clean = redact(`Invalid login: 535 5.7.8 credentials ${plain} rejected (${login.join(' ')})`, fragments);
    expectNoSecretIn(clean, [plain, ...login, 'SMTPPASSSECRET']);
    expect(clean).toBe('Invalid login: 535 5.7.8 credentials *** rejected (*** ***)');
  });
});
