import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { AvailabilityFeed } from '../src/services/availability-feed.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';

/**
 * Every route of the OpenAPI document, asked with requests made from its own schemas and spoiled with what
 * clients send by mistake or on purpose. Whatever comes in: never a 5xx, and every refusal a problem document.
 */

const ADMIN = 'sr_fuzz_admin_0123456789abcdef';
/** requests per route and key; each is one real call, so this bounds the file's time */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 40);

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
}

interface Parameter {
  in: 'path' | 'query';
  name: string;
  schema: JsonSchema;
}

interface Parts {
  pathParams: Record<string, unknown>;
  queryParams: Record<string, unknown>;
  /** a query parameter the route does not take */
  stranger: [string, string] | null;
  body: { value: unknown } | { text: string } | { csv: string } | undefined;
  key: boolean;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

/** Values JSON cannot carry as JavaScript numbers, written into the body text as they are. */
const RAW = '\u0001raw:';
const raw = (text: string): string => `${RAW}${text}\u0001`;

const HOSTILE_TEXT = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\udfff\ud800',
  '0x10',
  '1e3',
  ' 1',
  '+1',
  '-1',
  '',
  ' ',
  '../../etc/passwd',
  "'; DROP TABLE stock_levels; --",
  '%00',
  '%',
  '\u202e',
  '\ud83d\udc55',
  'x'.repeat(5000),
];
const HOSTILE_NUMBERS: unknown[] = [
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  1.5,
  -1,
  0,
  raw('1e309'),
  raw('-0'),
  raw('-1e309'),
  raw('1e-400'),
];
const HOSTILE_SHAPES: unknown[] = [
  null,
  true,
  {},
  [],
  [[[[[[]]]]]],
  { __proto__x: 1 },
  raw('['.repeat(5000) + ']'.repeat(5000)),
  raw('{"a":'.repeat(3000) + '1' + '}'.repeat(3000)),
];
const HOSTILE = [...HOSTILE_TEXT, ...HOSTILE_NUMBERS, ...HOSTILE_SHAPES];
const hostileText = fc.constantFrom(...HOSTILE_TEXT);
const hostileNumber = fc.constantFrom(...HOSTILE_NUMBERS);
const hostile: fc.Arbitrary<unknown> = fc.constantFrom(...HOSTILE);

/**
 * A value for a schema: well-formed (from real rows where a name says, else made to the schema), or, when
 * spoiling, now and then one of the hostile ones, anywhere in it.
 */
function valueFor(
  schema: JsonSchema | undefined,
  name: string,
  known: Record<string, string[]>,
  spoil: boolean,
  depth = 0,
): fc.Arbitrary<unknown> {
  const made = wellFormed(schema, name, known, spoil, depth);
  return spoil ? fc.oneof({ weight: 5, arbitrary: made }, { weight: 1, arbitrary: hostile }) : made;
}

function wellFormed(
  schema: JsonSchema | undefined,
  name: string,
  known: Record<string, string[]>,
  spoil: boolean,
  depth: number,
): fc.Arbitrary<unknown> {
  if (schema?.enum) return fc.constantFrom(...schema.enum);
  const seeded = known[name];
  if (seeded && seeded.length > 0) return fc.constantFrom(...seeded);
  if (!schema || depth > 4) return fc.string({ minLength: 1, maxLength: 8 });
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => wellFormed(s, name, known, spoil, depth + 1)));
  switch (schema.type) {
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const fields = Object.fromEntries(
        Object.entries(props).map(([key, s]) => [key, valueFor(s, key, known, spoil, depth + 1)]),
      );
      const record = fc.record(fields, { requiredKeys: Object.keys(props).filter((key) => required.has(key)) });
      if (!spoil) return record;
      // now and then a field nobody asked for
      return fc
        .tuple(
          record,
          fc.option(fc.tuple(fc.constantFrom('colour', 'admin', 'lines', '__proto__x', 'a\u0000'), hostile), {
            freq: 5,
          }),
        )
        .map(([r, extra]) => (extra ? { ...r, [extra[0]]: extra[1] } : r));
    }
    case 'array':
      return fc.array(valueFor(schema.items, name, known, spoil, depth + 1), { minLength: 1, maxLength: 3 });
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, -1000), max: Math.min(schema.maximum ?? 1000, 1000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date') return fc.constantFrom('2026-03-01', '2027-12-31');
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({
        minLength: schema.minLength ?? 1,
        maxLength: Math.min(schema.maxLength ?? 40, (schema.minLength ?? 1) + 20),
      });
  }
}

/** Text as it goes into a URL: what cannot be UTF-8 goes as the bytes of a lone surrogate, which no decoder accepts. */
function urlText(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value.replace(new RegExp(`${RAW}(.*)\u0001`, 's'), '$1')
      : ((JSON.stringify(value) as string | undefined) ?? '');
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[\s\S]/g, (c) => {
      try {
        return encodeURIComponent(c);
      } catch {
        return '%ED%A0%80';
      }
    });
  }
}

const bodyText = (value: unknown): string =>
  ((JSON.stringify(value) as string | undefined) ?? 'null').replace(/"\\u0001raw:(.*?)\\u0001"/g, (_, text: string) =>
    text.replace(/\\"/g, '"'),
  );

describe.each(drivers())('fuzzed requests to every route on %s', (driver) => {
  const h = useStockroom(driver);
  let app: FastifyInstance;
  const known: Record<string, string[]> = {};
  const idsByRoute: Record<string, string[]> = {};

  beforeAll(async () => {
    await h.s.keys.ensure(ADMIN, 'fuzz admin', ['admin']);
    app = await buildServer({ stockroom: h.s, storefront: { feed: new AvailabilityFeed(h.s.availability) } });
    const warehouse = uniq('FZW');
    const other = uniq('FZX');
    const sku = uniq('FZSKU');
    await h.s.catalog.addWarehouse({ code: warehouse, name: 'Fuzz', lat: 52.4, lon: 4.9 });
    await h.s.catalog.addWarehouse({ code: other, name: 'Fuzz 2' });
    await h.s.catalog.addBin({ warehouse, code: 'A-01-01' });
    await h.s.catalog.addVariant({ sku, product: { title: 'Fuzz tee' }, reorder_point: 50, reorder_qty: 10 });
    await h.s.stock.receive({ sku, warehouse, qty: 40 });
    const supplier = await h.s.purchasing.addSupplier({ code: uniq('FZS'), name: 'Fuzz supplier', warehouse });
    const po = await h.s.purchasing.create({ supplier: supplier.code, warehouse, lines: [{ sku, qty: 5 }] });
    const reservation = await h.s.reservations.reserve({ order_ref: uniq('fz'), lines: [{ sku, qty: 2 }] });
    const channel = await h.s.channels.addWebhook({
      url: 'http://127.0.0.1:9/fuzz',
      events: ['low_stock'],
      secret: 'a-fuzz-secret-of-16+',
    });
    const throwaway = await h.s.keys.create({ name: 'fuzz throwaway', scopes: ['checkout'] });
    Object.assign(known, {
      sku: [sku, 'NOPE-SKU'],
      warehouse: [warehouse, other],
      supplier: [supplier.code],
      code: [warehouse],
      bin: ['A-01-01'],
      reservation_id: [reservation.id],
      channel: [String(channel.id)],
      limit: ['1', '50'],
      cursor: ['0'],
      query: ['Fuzz'],
      since: ['2026-01-01', '2026-01-15T10:00:00Z'],
      window_days: ['7'],
      service_level: ['0.9'],
      url: ['http://127.0.0.1:9/fuzz'],
      smtp_url: ['smtp://127.0.0.1:9'],
      api_url: ['http://127.0.0.1:9'],
      from: [warehouse, other, 'shop@example.com'],
      to: [other, warehouse, 'ops@example.com'],
    });
    const numeric = (id: number) => [String(id), '0x10', '1e3', ' 1', '+1', '99999999999999999999', String(2 ** 31)];
    Object.assign(idsByRoute, {
      '/v1/reservations/{id}': [reservation.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid'],
      '/v1/purchase-orders/{id}': numeric(po.id),
      '/v1/channels/{id}': numeric(channel.id),
      '/v1/webhooks/{id}': numeric(channel.id),
      '/v1/deliveries/{id}': numeric(1),
      // never the admin key the fuzzing runs with
      '/v1/keys/{id}': [String(throwaway.id), '0x10', 'nope'],
    });
  });
  afterAll(async () => {
    await app.close();
  });

  /** The parts of a request to a route, well-formed or spoiled. */
  function requestParts(path: string, method: string, op: Operation, spoil: boolean): fc.Arbitrary<Parts> {
    const params = op.parameters ?? [];
    const ids = Object.entries(idsByRoute).find(([prefix]) => path.startsWith(prefix))?.[1] ?? [];
    const knownHere = { ...known, id: ids };
    const pathParams = fc.record(
      Object.fromEntries(
        params
          .filter((p) => p.in === 'path')
          .map((p) => [
            p.name,
            spoil
              ? fc.oneof(
                  { weight: 4, arbitrary: wellFormed(p.schema, p.name, knownHere, spoil, 0) },
                  { weight: 1, arbitrary: hostileText },
                )
              : wellFormed(p.schema, p.name, knownHere, spoil, 0),
          ]),
      ),
    );
    const queryParams = fc.record(
      Object.fromEntries(
        params.filter((p) => p.in === 'query').map((p) => [p.name, valueFor(p.schema, p.name, knownHere, spoil)]),
      ),
      { requiredKeys: [] },
    );
    const stranger = spoil
      ? fc.option(fc.tuple(fc.constantFrom('warehouse', 'status', 'colour', 'limit', 'a%00'), hostileText), { freq: 4 })
      : fc.constant(null);
    const schema = op.requestBody?.content['application/json']?.schema;
    const body: fc.Arbitrary<Parts['body']> =
      path === '/v1/import/stock'
        ? fc
            .array(
              fc.tuple(
                valueFor(undefined, 'sku', known, spoil),
                valueFor(undefined, 'warehouse', known, spoil),
                spoil ? fc.oneof(fc.nat(100), hostileNumber) : fc.nat(100),
              ),
              { minLength: 1, maxLength: 3 },
            )
            .map((rows) => ({
              csv: [
                'sku,warehouse,on_hand',
                ...rows.map((row) =>
                  row
                    .map((cell) => (typeof cell === 'string' ? cell.replace(RAW, '') : JSON.stringify(cell)))
                    .join(','),
                ),
              ].join('\n'),
            }))
        : schema
          ? spoil
            ? fc.oneof(
                { weight: 8, arbitrary: valueFor(schema, '', knownHere, spoil).map((value) => ({ value })) },
                {
                  weight: 1,
                  arbitrary: fc
                    .constantFrom('{"sku": ', '[1,2', '"', 'null', '{"__proto__": {"a": 1}}')
                    .map((text) => ({ text })),
                },
              )
            : wellFormed(schema, '', knownHere, spoil, 0).map((value) => ({ value }))
          : method === 'get' || method === 'delete' || !spoil
            ? fc.constant(undefined)
            : fc
                .option(fc.constantFrom('{}', '{"lines": [{"sku": "X", "qty": 1}]}', '[]', '"x"'), { freq: 2 })
                .map((text) => (text === null ? undefined : { text }));
    return fc.record({ pathParams, queryParams, stranger, body, key: fc.boolean() });
  }

  /**
   * Every hostile value in every place of one well-formed request: each path parameter, each query parameter
   * and each top-level body field in turn. Random runs find combinations; these make sure each value is tried.
   */
  function hostileExamples(path: string, method: string, op: Operation): Parts[] {
    const [base] = fc.sample(requestParts(path, method, op, false), { numRuns: 1, seed: 12 });
    if (!base) return [];
    const key = true;
    const body =
      base.body && 'value' in base.body && typeof base.body.value === 'object' && base.body.value !== null
        ? (base.body.value as Record<string, unknown>)
        : undefined;
    return HOSTILE.flatMap((value) => [
      ...Object.keys(base.pathParams)
        .filter(() => typeof value === 'string')
        .map((name) => ({ ...base, key, pathParams: { ...base.pathParams, [name]: value } })),
      ...(op.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => ({ ...base, key, queryParams: { ...base.queryParams, [p.name]: value } })),
      ...Object.keys(body ?? {}).map((name) => ({ ...base, key, body: { value: { ...body, [name]: value } } })),
    ]);
  }

  function toRequest(
    path: string,
    parts: Parts,
  ): { url: string; body: string | undefined; type: string; key: boolean } {
    const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => urlText(parts.pathParams[name]));
    const query = Object.entries(parts.queryParams).flatMap(([name, value]) =>
      Array.isArray(value) ? value.map((v) => `${name}=${urlText(v)}`) : [`${name}=${urlText(value)}`],
    );
    if (parts.stranger) query.push(`${parts.stranger[0]}=${urlText(parts.stranger[1])}`);
    const body =
      parts.body === undefined
        ? undefined
        : 'csv' in parts.body
          ? parts.body.csv
          : 'text' in parts.body
            ? parts.body.text
            : bodyText(parts.body.value);
    return {
      url: query.length > 0 ? `${filled}?${query.join('&')}` : filled,
      body,
      type: parts.body && 'csv' in parts.body ? 'text/csv' : 'application/json',
      key: parts.key,
    };
  }

  it('never answers 5xx, and answers every 4xx with a problem document', async () => {
    await app.ready();
    const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    expect(routes.length).toBeGreaterThan(40);
    const seen = new Map<string, Set<number>>();
    for (const { path, method, op } of routes) {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            requestParts(path, method, op, false),
            requestParts(path, method, op, true),
            requestParts(path, method, op, true),
          ),
          async (parts) => {
            const req = toRequest(path, parts);
            // as a stream: an event stream that opens stays open (until the server closes), so its body is not awaited
            const res = await app.inject({
              method: method.toUpperCase() as 'GET',
              url: req.url,
              headers: {
                ...(req.key ? { authorization: `Bearer ${ADMIN}` } : {}),
                ...(req.body === undefined ? {} : { 'content-type': req.type }),
              },
              ...(req.body === undefined ? {} : { payload: req.body }),
              payloadAsStream: true,
            });
            const streaming = String(res.headers['content-type']).startsWith('text/event-stream');
            const chunks: Buffer[] = [];
            if (!streaming) for await (const chunk of res.stream()) chunks.push(chunk as Buffer);
            const text = Buffer.concat(chunks).toString('utf8');
            const where = `${method.toUpperCase()} ${req.url.slice(0, 300)} ${req.body?.slice(0, 300) ?? ''} -> ${res.statusCode} ${text.slice(0, 300)}`;
            expect(res.statusCode, where).toBeLessThan(500);
            if (res.statusCode >= 400) {
              expect(String(res.headers['content-type']), where).toContain('application/problem+json');
              const problem = JSON.parse(text) as Record<string, unknown>;
              expect(problem.status, where).toBe(res.statusCode);
              expect([typeof problem.code, typeof problem.title, typeof problem.detail], where).toEqual([
                'string',
                'string',
                'string',
              ]);
            }
            const statuses = seen.get(`${method} ${path}`) ?? new Set<number>();
            seen.set(`${method} ${path}`, statuses.add(res.statusCode));
          },
        ),
        { numRuns: RUNS_PER_ROUTE, examples: hostileExamples(path, method, op).map((parts) => [parts]) },
      );
    }
    if (process.env.FUZZ_SHOW)
      console.log([...seen].map(([route, s]) => `${route} ${[...s].sort().join(',')}`).join('\n'));
    // the fuzzing reached past the door: most routes answered something other than a refusal of the key
    const reached = [...seen.values()].filter((statuses) => [...statuses].some((s) => s !== 401)).length;
    expect(reached).toBeGreaterThan(routes.length * 0.8);
  });
});
