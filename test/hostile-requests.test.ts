import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useListening } from './support/listening.js';
import { exchange, sendRaw } from './support/raw-http.js';
import type { Exchange } from './support/raw-http.js';

const ADMIN = 'sr_hostile_admin_0123456789abcdef';

/** A body as bytes, where `\xNN` in `text` stands for the byte NN (so a body may hold bytes UTF-8 never has). */
function bytesOf(text: string): Buffer {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const match of text.matchAll(/\\x([0-9a-f]{2})/gi)) {
    pieces.push(Buffer.from(text.slice(at, match.index), 'utf8'), Buffer.from([parseInt(match[1] ?? '0', 16)]));
    at = match.index + match[0].length;
  }
  pieces.push(Buffer.from(text.slice(at), 'utf8'));
  return Buffer.concat(pieces);
}

interface Problem {
  code?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** The answer's body as JSON (a problem document on refusals). */
const json = (answer: Exchange): Problem => JSON.parse(answer.body) as Problem;

/** A refusal as the API promises it: the status, a problem document with its code, and where the problem is. */
function expectRefused(answer: Exchange, status: number, code: string, path?: string): Problem {
  expect(answer.headers['content-type']).toContain('application/problem+json');
  const problem = json(answer);
  expect(problem, answer.body).toMatchObject({ status, code });
  expect(answer.status).toBe(status);
  if (path !== undefined) expect(problem.errors?.map((error) => error.path)).toContain(path);
  return problem;
}

describe.each(drivers())('requests a server must refuse as sent, over real HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, []);
  beforeAll(async () => {
    await h.s.keys.ensure(ADMIN, 'hostile admin', ['admin']);
  });

  /** A request with the admin key and `headers` (header lines), and a body given as bytes. */
  const send = (method: string, path: string, body: Buffer | undefined, headers: string[] = []): Promise<Exchange> =>
    exchange(
      served.url,
      [`${method} ${path} HTTP/1.1`, `Authorization: Bearer ${ADMIN}`, ...headers].join('\r\n'),
      body,
    );
  const sendJson = (method: string, path: string, body: string, headers = ['Content-Type: application/json']) =>
    send(method, path, bytesOf(body), headers);

  /** What a refused request must leave as it was: the SKU's stock, the ledger, suppliers, orders and keys. */
  const snapshot = async (sku: string) => ({
    stock: await h.s.stock.get(sku),
    movements: (await h.s.stock.movements({ sku, limit: 500 })).items.length,
    suppliers: (await h.s.purchasing.listSuppliers()).items.length,
    orders: (await h.s.purchasing.list({ limit: 500 })).items.length,
    keys: (await h.s.keys.list()).length,
  });

  it('refuses a JSON body that is not UTF-8 with 400 on every route, instead of storing U+FFFD, and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const supplier = uniq('SUP');
    await h.s.purchasing.addSupplier({ code: supplier, name: supplier });
    const before = await snapshot(sku);
    const bodies: [string, string][] = [
      ['/v1/stock/receive', `{"sku":"${sku}","warehouse":"${wh[0]}","qty":1,"reference":"caf\\xe9"}`],
      ['/v1/suppliers', `{"code":"${uniq('S')}","name":"caf\\xe9"}`],
      [
        '/v1/purchase-orders',
        `{"supplier":"${supplier}","warehouse":"${wh[0]}","lines":[{"sku":"${sku}","qty":1,"unit_cost":1}],"reference":"caf\\xe9"}`,
      ],
      ['/v1/keys', `{"name":"caf\\xe9","scopes":["checkout"]}`],
      // a cut-off character, an overlong slash, an encoded surrogate: none of them is UTF-8
      ['/v1/stock/receive', `{"sku":"${sku}","warehouse":"${wh[0]}","qty":1,"reference":"\\xe2\\x82"}`],
      ['/v1/stock/receive', `{"sku":"${sku}","warehouse":"${wh[0]}","qty":1,"reference":"\\xc0\\xaf"}`],
      ['/v1/stock/receive', `{"sku":"${sku}","warehouse":"${wh[0]}","qty":1,"reference":"\\xed\\xa0\\x80"}`],
      // a pushed sync keeps its body for the signature, and reads it the same way
      ['/v1/stock/sync', `{"source":"caf\\xe9","items":[{"sku":"${sku}","warehouse":"${wh[0]}","on_hand":1}]}`],
    ];
    for (const [path, body] of bodies) {
      const problem = expectRefused(await sendJson('POST', path, body), 400, 'validation_failed', '');
      expect(problem.detail).toMatch(/not valid UTF-8: byte 0x[0-9A-F]{2} at offset \d+/);
    }
    expect(await snapshot(sku)).toEqual(before);
    // the same bodies in UTF-8 are taken
    for (const [path, body] of bodies.slice(0, 4)) {
      const answer = await sendJson('POST', path, body.replace('\\xe9', '\\xc3\\xa9'));
      expect(answer.status, answer.body).toBeLessThan(300);
    }
    expect((await h.s.stock.movements({ sku, limit: 1 })).items[0]?.reference).toBe('café');
  });

  it('refuses a CSV import that is not UTF-8, naming the line, and changes nothing; its preview too', async () => {
    const { sku, wh } = await world(h.s, [5, 0]);
    const before = await snapshot(sku);
    const csv = (tail: string) => `sku,warehouse,on_hand,reserved\n${sku},${wh[0]},9,fine\n${tail}`;
    const files: [string, number][] = [
      [csv(`${sku},${wh[0]},9,caf\\xe9\n`), 3],
      [csv(`${sku}\\xff,${wh[0]},9,x\n`), 3],
      // the file ends in the middle of a character
      [csv(`${sku},${wh[0]},9,\\xe2\\x82`), 3],
    ];
    for (const path of ['/v1/import/stock', '/v1/import/stock/preview']) {
      for (const [file, line] of files) {
        const problem = expectRefused(
          await send('POST', path, bytesOf(file), ['Content-Type: text/csv']),
          400,
          'validation_failed',
          `/line/${line}`,
        );
        expect(problem.detail).toMatch(/not valid UTF-8: byte 0x[0-9A-F]{2} at offset \d+ of the file/);
      }
    }
    expect(await snapshot(sku)).toEqual(before);
    const answer = await send('POST', '/v1/import/stock', bytesOf(csv(`${sku},${wh[1]},7,caf\\xc3\\xa9\n`)), [
      'Content-Type: text/csv',
    ]);
    expect(answer.status, answer.body).toBe(200);
  });

  it('refuses a body whose charset is not UTF-8 with 415 and changes nothing; UTF-8 however written, or none, is read', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const before = await snapshot(sku);
    const receive = `{"sku":"${sku}","warehouse":"${wh[0]}","qty":1,"reference":"caf\\xe9"}`;
    for (const type of [
      'application/json; charset=latin1',
      'application/json; charset=ISO-8859-1',
      'application/json;charset="utf-16"',
      // a second charset does not make the first one true
      'application/json; charset=utf-8; charset=latin1',
    ]) {
      const problem = expectRefused(
        await sendJson('POST', '/v1/stock/receive', receive, [`Content-Type: ${type}`]),
        415,
        'unsupported_media_type',
      );
      expect(problem.detail).toMatch(/charset (latin1|iso-8859-1|utf-16) is not supported/);
    }
    const csv = `sku,warehouse,on_hand\n${sku},${wh[0]},9\n`;
    expectRefused(
      await send('POST', '/v1/import/stock', bytesOf(csv), ['Content-Type: text/csv; charset=windows-1252']),
      415,
      'unsupported_media_type',
    );
    expect(await snapshot(sku)).toEqual(before);
    const good = `{"sku":"${sku}","warehouse":"${wh[0]}","qty":1,"reference":"caf\\xc3\\xa9"}`;
    // every label a browser reads as UTF-8 (WHATWG's), utf8 among them
    for (const type of [
      'application/json; charset=UTF-8',
      'application/json;charset="utf-8"',
      'application/json; charset=utf8',
      'application/json; charset=unicode-1-1-utf-8',
      'application/json',
    ])
      expect((await sendJson('POST', '/v1/stock/receive', good, [`Content-Type: ${type}`])).status, type).toBe(200);
    expect(
      (await send('POST', '/v1/import/stock', bytesOf(csv), ['Content-Type: text/csv; charset=utf-8'])).status,
    ).toBe(200);
  });

  it('refuses a body with a Content-Encoding other than identity with 415 naming it, and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const before = await snapshot(sku);
    const body = Buffer.from(JSON.stringify({ sku, warehouse: wh[0], qty: 1 }));
    const csv = Buffer.from(`sku,warehouse,on_hand\n${sku},${wh[0]},9\n`);
    const sent: [string, Buffer, string, string][] = [
      // a coding named on a body that is not in it: applying the body as it is would be a guess
      ['/v1/stock/receive', body, 'application/json', 'br'],
      ['/v1/stock/receive', gzipSync(body), 'application/json', 'gzip'],
      ['/v1/stock/receive', body, 'application/json', 'identity, gzip'],
      ['/v1/import/stock', gzipSync(csv), 'text/csv', 'gzip'],
      ['/v1/stock/sync', gzipSync(body), 'application/json', 'deflate'],
    ];
    for (const [path, bytes, type, coding] of sent) {
      const problem = expectRefused(
        await send('POST', path, bytes, [`Content-Type: ${type}`, `Content-Encoding: ${coding}`]),
        415,
        'unsupported_media_type',
      );
      expect(problem.detail).toContain(`Content-Encoding ${coding.replace('identity, ', '')} is not supported`);
    }
    expect(await snapshot(sku)).toEqual(before);
    const plain = await send('POST', '/v1/stock/receive', body, [
      'Content-Type: application/json',
      'Content-Encoding: identity',
    ]);
    expect(plain.status, plain.body).toBe(200);
  });

  it('refuses an HTTP/1.1 request without Host, and one that is not HTTP, with a problem document and a request id', async () => {
    const noHost = await sendRaw(served.url, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectRefused(noHost, 400, 'validation_failed', '/headers/host');
    expect(noHost.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // HTTP/1.0 has no Host to require
    expect((await sendRaw(served.url, 'GET /healthz HTTP/1.0\r\n\r\n')).status).toBe(200);
    const malformed = await sendRaw(served.url, 'GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n');
    expectRefused(malformed, 400, 'validation_failed');
    expect(malformed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a body sent with two Content-Type headers instead of reading it as the first one', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const before = await snapshot(sku);
    const body = bytesOf(`{"sku":"${sku}","warehouse":"${wh[0]}","qty":1}`);
    expectRefused(
      await send('POST', '/v1/stock/receive', body, ['Content-Type: application/json', 'Content-Type: text/csv']),
      400,
      'validation_failed',
      '/headers/content-type',
    );
    expect(await snapshot(sku)).toEqual(before);
  });

  it('refuses a request with two Authorization headers instead of acting with the first key', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const reader = (await h.s.keys.create({ name: uniq('reader'), scopes: ['storefront'] })).key;
    const before = await snapshot(sku);
    const body = bytesOf(`{"sku":"${sku}","warehouse":"${wh[0]}","qty":1}`);
    const twice = (first: string, second: string, path = '/v1/stock/receive', method = 'POST') =>
      exchange(
        served.url,
        [`${method} ${path} HTTP/1.1`, `Authorization: Bearer ${first}`, `Authorization: Bearer ${second}`]
          .concat(method === 'POST' ? ['Content-Type: application/json'] : [])
          .join('\r\n'),
        method === 'POST' ? body : undefined,
      );
    for (const [first, second] of [
      [ADMIN, reader],
      [reader, ADMIN],
      [ADMIN, 'sr_unknown_0123456789abcdef'],
      [ADMIN, ADMIN],
    ] as const) {
      expectRefused(await twice(first, second), 400, 'validation_failed', '/headers/authorization');
      expectRefused(
        await twice(first, second, '/v1/warehouses', 'GET'),
        400,
        'validation_failed',
        '/headers/authorization',
      );
    }
    expect(await snapshot(sku)).toEqual(before);
  });

  it('refuses a stock-list cursor carrying half a surrogate pair, or bytes that are not UTF-8, as any tampered cursor', async () => {
    const get = (path: string) =>
      exchange(served.url, [`GET ${path} HTTP/1.1`, `Authorization: Bearer ${ADMIN}`].join('\r\n'));
    const tampered = expectRefused(
      await get('/v1/stock?cursor=not-a-cursor'),
      400,
      'validation_failed',
      '/query/cursor',
    );
    const forged = [
      Buffer.from(JSON.stringify(['sku', 'asc', '\ud800', 1, 1])),
      Buffer.from(JSON.stringify(['sku', 'asc', 'A\udc00B', 1, 1])),
      Buffer.from('["sku","asc","caf\xe9",1,1]', 'latin1'),
    ];
    for (const cursor of forged) {
      const problem = expectRefused(
        await get(`/v1/stock?cursor=${cursor.toString('base64url')}`),
        400,
        'validation_failed',
      );
      expect(problem.errors).toEqual(tampered.errors);
    }
  });

  it('answers 404 for an admin console path holding a NUL or another control character, and the page for its pages', async () => {
    const get = (path: string) => exchange(served.url, `GET ${path} HTTP/1.1`);
    for (const path of [
      '/admin/%00',
      '/admin/stock%00',
      '/admin/%0A',
      '/admin/variants/%01',
      '/admin/%7F',
      '/admin/%C2%85',
    ])
      expect(expectRefused(await get(path), 404, 'not_found').detail, path).toContain('control character');
    expectRefused(await get('/admin/assets/%00'), 404, 'not_found');
    for (const path of ['/admin', '/admin/stock', '/admin/variants/TEE-M', '/admin/variants/caf%C3%A9']) {
      const answer = await get(path);
      expect([answer.status, answer.headers['content-type']], path).toEqual([200, 'text/html; charset=utf-8']);
    }
  });
});
