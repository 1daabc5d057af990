import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { post } from './support/raw-http.js';
import type { RawReply } from './support/raw-http.js';
import { ADMIN_KEY, adminCall, useServer } from './support/served.js';

const MAX_BYTES = 16 * 1024 * 1024;
const MAX_ERRORS = 20;
const LINES = 1_000_000;
/**
 * The longest the server's event loop may stall while it reads an import: far under the seconds a read takes (an
 * import that gave the loop no turn, or asked the embedded database for a million SKUs at once, stalls it for all
 * of them), far over what a turn costs. On a quiet machine the longest stall is 40-50 ms, mostly young-generation
 * collections of the rows held so far; in the full suite the server shares two cores with the other worker's tests
 * and their servers, and the same stall measured 115-147 ms of wall time. A wall-time bound near the quiet figure
 * tests the machine's load, not the server.
 */
const STALL_BOUND_MS = 1000;

const HEADER = 'sku,warehouse,on_hand\n';
/** a CSV of a header and `rows` data rows, written as one buffer before the upload starts */
const csvOf = (rows: number, row: (i: number) => string): Buffer => {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) lines.push(row(i));
  return Buffer.from(lines.join(''));
};

describe.each(drivers())(
  'CSV stock imports that are huge, bad or many at once, against a real server process on %s',
  (driver) => {
    const ctx = useServer(driver, {
      STOCKROOM_IMPORT_MAX_BYTES: String(MAX_BYTES),
      STOCKROOM_IMPORT_MAX_ERRORS: String(MAX_ERRORS),
      STOCKROOM_IMPORT_CONCURRENCY: '1',
    });
    const csvHeaders = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' };
    const importUrl = () => `${ctx.server.url}/v1/import/stock?reference=limits`;
    const onHand = async (): Promise<number> =>
      ((await adminCall(ctx.server, 'GET', '/v1/stock/IMP-1')).total as { on_hand: number }).on_hand;
    const json = async (r: RawReply) =>
      JSON.parse(await r.text()) as { code: string; errors?: { path: string; message: string }[] };

    beforeAll(async () => {
      await adminCall(ctx.server, 'POST', '/v1/warehouses', { code: 'IMP', name: 'Imports' });
      await adminCall(ctx.server, 'POST', '/v1/variants', { sku: 'IMP-1', product: { title: 'imported' } });
      await adminCall(ctx.server, 'POST', '/v1/stock/receive', { sku: 'IMP-1', warehouse: 'IMP', qty: 5 });
    });

    /**
     * The server's longest event-loop stall since the last call: prom-client's histogram of the loop's delay is
     * read and reset on every scrape. This is what decides how long /healthz waits for an answer; a round trip
     * timed from here also counts this test process's and the other test files' turns on two shared cores.
     */
    const longestStallMs = async (): Promise<number> => {
      const text = await (
        await fetch(`${ctx.server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      ).text();
      return Number(/^stockroom_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]) * 1000;
    };

    /** Uploads `body` while /healthz is asked again and again; the answer, how often /healthz answered, and the longest stall. */
    const importWatched = async (body: Buffer): Promise<{ reply: RawReply; healthy: number; stallMs: number }> => {
      await longestStallMs();
      let healthy = 0;
      // a server that refuses an upload part way reads and drops the rest, so no write of this client (which stops
      // once answered, and asked to close) is refused by a reset before the answer is read
      const upload = post(importUrl(), { ...csvHeaders, 'content-length': String(body.length) });
      const sending = upload.sendAll(body).then(upload.end);
      const state = { answered: false };
      const answered = (): void => {
        state.answered = true;
      };
      upload.answered.then(answered, answered);
      while (!state.answered) {
        const res = await fetch(`${ctx.server.url}/healthz`);
        expect(res.status).toBe(200);
        await res.text();
        healthy++;
      }
      await sending;
      return { reply: await upload.answered, healthy, stallMs: await longestStallMs() };
    };

    it('reads a 1,000,000-line CSV with bad rows throughout to its end, its event loop never stalled for as long as a second; refuses it at the row-error limit and changes nothing', async () => {
      const before = await onHand();
      // the first row would change IMP-1; every 50,000th row is bad, the last one of them the last row
      const body = csvOf(LINES, (i) =>
        i === 0 ? 'IMP-1,IMP,99\n' : `S${i},IMP,${i % 50_000 === 49_999 ? 'x' : '1'}\n`,
      );
      expect(body.length).toBeLessThan(MAX_BYTES);
      const { reply, healthy, stallMs } = await importWatched(body);
      expect(reply.status).toBe(400);
      const problem = await json(reply);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toHaveLength(MAX_ERRORS + 1);
      expect(problem.errors?.slice(0, MAX_ERRORS).map((e) => e.path)).toEqual(
        Array.from({ length: MAX_ERRORS }, (_, k) => `/line/${(k + 1) * 50_000 + 1}/on_hand`),
      );
      expect(problem.errors?.at(-1)).toEqual({
        path: '/csv',
        message: `stopped at ${MAX_ERRORS} problems; the rest of the file was not checked`,
      });
      expect(healthy).toBeGreaterThan(1);
      expect(stallMs).toBeGreaterThan(0);
      expect(stallMs).toBeLessThan(STALL_BOUND_MS);
      expect(await onHand()).toBe(before);
    });

    it('stops reading a 1,000,000-line CSV of bad rows at the row-error limit and reports the first ones', async () => {
      const before = await onHand();
      const body = csvOf(LINES, (i) => (i === 0 ? 'IMP-1,IMP,99\n' : `S${i},IMP,-1\n`));
      const { reply, stallMs } = await importWatched(body);
      expect(reply.status).toBe(400);
      const problem = await json(reply);
      expect(problem.errors?.map((e) => e.path)).toEqual([
        ...Array.from({ length: MAX_ERRORS }, (_, k) => `/line/${k + 3}/on_hand`),
        '/csv',
      ]);
      expect(stallMs).toBeLessThan(STALL_BOUND_MS);
      expect(await onHand()).toBe(before);
    });

    it('refuses an import over the size limit with 413, by its declared length at once or once that much has streamed in', async () => {
      const before = await onHand();
      const declared = post(importUrl(), { ...csvHeaders, 'content-length': String(MAX_BYTES + 1) });
      await declared.send(HEADER);
      const early = await declared.answered;
      expect(early.status).toBe(413);
      expect(early.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await json(early)).toMatchObject({ code: 'payload_too_large', limit_bytes: MAX_BYTES });
      declared.abort();

      // no length given (chunked): valid, distinct rows, until the limit is passed
      const streamed = post(importUrl(), csvHeaders);
      const body = csvOf(MAX_BYTES / 25, (i) => `IMPORT-SIZE-${String(i).padStart(8, '0')},IMP,1\n`);
      expect(body.length).toBeGreaterThan(MAX_BYTES);
      const sending = streamed.sendAll(body).then(streamed.end);
      const late = await streamed.answered;
      await sending;
      expect(late.status).toBe(413);
      expect(await json(late)).toMatchObject({ code: 'payload_too_large' });
      expect(await onHand()).toBe(before);
    });

    it('refuses an import while as many run as allowed (503 with Retry-After), and takes the next once one is done', async () => {
      const before = await onHand();
      const rows = `IMP-1,IMP,${before + 2}\n`;
      const running = post(importUrl(), { ...csvHeaders, 'content-length': String(HEADER.length + rows.length) });
      await running.send(HEADER);
      // the running import holds its slot until its body ends; a bad file is the probe, so one let in changes nothing
      const probe = async () => {
        const p = post(importUrl(), csvHeaders);
        await p.send('nope\n');
        p.end();
        return p.answered;
      };
      let refused: RawReply | undefined;
      for (let tries = 0; tries < 100 && !refused; tries++) {
        const r = await probe();
        if (r.status === 503) refused = r;
        else expect(r.status).toBe(400);
        if (r.status !== 503) await r.text();
      }
      expect(refused?.headers['retry-after']).toBe('30');
      expect(await json(refused!)).toMatchObject({ code: 'at_capacity' });

      await running.send(rows);
      running.end();
      const done = await running.answered;
      expect(done.status).toBe(200);
      expect(JSON.parse(await done.text())).toEqual({ rows: 1, changed: 1, shortfalls: [] });
      expect(await onHand()).toBe(before + 2);
      // its slot is free once it has answered
      const next = await probe();
      expect(next.status).toBe(400);
      expect(await json(next)).toMatchObject({ code: 'validation_failed' });
    });

    it('holds a dry run to the same limits: 413 past the size, and 503 while the imports allowed are running', async () => {
      const previewUrl = `${ctx.server.url}/v1/import/stock/preview`;
      const declared = post(previewUrl, { ...csvHeaders, 'content-length': String(MAX_BYTES + 1) });
      await declared.send(HEADER);
      const tooLarge = await declared.answered;
      expect(tooLarge.status).toBe(413);
      expect(await json(tooLarge)).toMatchObject({ code: 'payload_too_large', limit_bytes: MAX_BYTES });
      declared.abort();

      // an import holding the one slot (its body not yet ended) leaves no room for a dry run, and the other way round
      const rows = 'IMP-1,IMP,5\n';
      const running = post(importUrl(), { ...csvHeaders, 'content-length': String(HEADER.length + rows.length) });
      await running.send(HEADER);
      let refused: RawReply | undefined;
      for (let tries = 0; tries < 100 && !refused; tries++) {
        const probe = post(previewUrl, csvHeaders);
        await probe.send('nope\n');
        probe.end();
        const r = await probe.answered;
        if (r.status === 503) refused = r;
        else expect(r.status).toBe(400);
        if (r.status !== 503) await r.text();
      }
      expect(refused?.headers['retry-after']).toBe('30');
      expect(await json(refused!)).toMatchObject({ code: 'at_capacity' });
      await running.send(rows);
      running.end();
      const done = await running.answered;
      expect(done.status).toBe(200);
      await done.text();
    });
  },
);
