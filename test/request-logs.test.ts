import { describe, expect, it } from 'vitest';
import { redactedUrl } from '../src/http/request-log.js';
import { ADMIN_KEY, apiCall, useServer } from './support/served.js';

interface LogLine {
  reqId?: string;
  msg?: string;
  key_id?: number;
  req?: { url?: string };
}

describe('request logs of a real server process', () => {
  const ctx = useServer('pglite', { LOG_LEVEL: 'info' });
  /** the JSON lines the process wrote for one request, once its "request completed" line is out */
  const linesOf = async (requestId: string): Promise<LogLine[]> => {
    for (let tries = 0; tries < 200; tries++) {
      const lines = ctx.server
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.reqId === requestId);
      if (lines.some((line) => line.msg === 'request completed')) return lines;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no request completed line for ${requestId}`);
  };
  const call = async (path: string, key: string | null) => {
    const res = await fetch(`${ctx.server.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    await res.text();
    return res.headers.get('x-request-id') ?? '';
  };

  it('names the API key by its id on the lines after the key is checked, never the key itself', async () => {
    const keys = await apiCall(ctx.server, 'GET', '/v1/keys');
    const admin = (keys.body.items as { id: number; origin: string }[]).find((key) => key.origin === 'operator');
    const lines = await linesOf(await call('/v1/warehouses', ADMIN_KEY));
    expect(lines.find((line) => line.msg === 'request completed')).toMatchObject({ key_id: admin?.id });
    // a public request names no key
    const publicLines = await linesOf(await call('/healthz', null));
    expect(publicLines.every((line) => line.key_id === undefined)).toBe(true);
    expect(ctx.server.output()).not.toContain(ADMIN_KEY);
    expect(ctx.server.output()).not.toContain(ADMIN_KEY.slice(-16));
  });

  it('logs query strings with every value that may carry a secret redacted, and keeps the rest', async () => {
    const secrets = ['tok-4c1d9e', 'key-77aa01', 'sig-e0f1a2', 'pw-0b0b0b', 'sec-9f8e7d'];
    const path =
      `/v1/availability?sku=LOG-1&access_token=${secrets[0]}&api_key=${secrets[1]}&X-Amz-Signature=${secrets[2]}` +
      `&password=${secrets[3]}&client%5Fsecret=${secrets[4]}`;
    const lines = await linesOf(await call(path, null));
    // one line a request at the default level: the completed one, with the request it answered
    expect(lines.map((line) => line.msg)).toEqual(['request completed']);
    const completed = lines.find((line) => line.msg === 'request completed');
    expect(completed?.req?.url).toBe(
      '/v1/availability?sku=LOG-1&access_token=[redacted]&api_key=[redacted]&X-Amz-Signature=[redacted]' +
        '&password=[redacted]&client%5Fsecret=[redacted]',
    );
    for (const secret of secrets) expect(ctx.server.output()).not.toContain(secret);
  });

  it("logs a request the router refuses (a malformed escape, an over-long parameter) once, as any other's line", async () => {
    for (const [path, status] of [
      ['/v1/stock/%E0%A4%A', 400],
      [`/v1/stock/${'x'.repeat(600)}`, 414],
    ] as const) {
      const res = await fetch(`${ctx.server.url}${path}`);
      expect(res.status).toBe(status);
      await res.text();
      // the answer carries its id, as every answer does
      const lines = await linesOf(res.headers.get('x-request-id') ?? 'none');
      expect(lines.map((line) => line.msg)).toEqual(['request completed']);
      expect(lines[0]?.req?.url).toBe(path);
    }
  });
});

describe('redactedUrl', () => {
  it('leaves a path and harmless parameters as they are', () => {
    expect(redactedUrl('/v1/stock/A')).toBe('/v1/stock/A');
    expect(redactedUrl('/v1/reservations?status=pending&limit=5&cursor=abc')).toBe(
      '/v1/reservations?status=pending&limit=5&cursor=abc',
    );
  });

  it('redacts parameters named for tokens, keys, secrets, signatures, passwords and sessions, however written', () => {
    expect(redactedUrl('/x?Token=a&auth=b&sessionId=c&sig=d&code=e&jwt=f&bearer&sku=g')).toBe(
      '/x?Token=[redacted]&auth=[redacted]&sessionId=[redacted]&sig=[redacted]&code=[redacted]&jwt=[redacted]&bearer=[redacted]&sku=g',
    );
  });

  it('redacts the secret of a generated API key wherever it is written, keeping its public id', () => {
    const key = 'sr_0a1b2c3d4e5f_AbCdEfGhIjKlMnOpQrStUvWxYz012345';
    expect(redactedUrl(`/v1/keys/${key}/revoke`)).toBe('/v1/keys/sr_0a1b2c3d4e5f_[redacted]/revoke');
    expect(redactedUrl(`/v1/stock?sku=${key}&q=${key}`)).toBe(
      '/v1/stock?sku=sr_0a1b2c3d4e5f_[redacted]&q=sr_0a1b2c3d4e5f_[redacted]',
    );
    // written with escapes, which the server decodes to the key itself: found all the same
    expect(redactedUrl(`/v1/stock/sr%5F0a1b2c3d4e5f%5FAbCdEfGhIjKlMnOpQrStUvWxYz012345`)).toBe(
      '/v1/stock/sr%5F0a1b2c3d4e5f%5F[redacted]',
    );
    expect(redactedUrl(`/v1/stock/%73r_0a1b2c3d4e5f_AbCdEf%2DhIjKlMnOpQrStUvWxYz012345/x?a=1`)).toBe(
      '/v1/stock/%73r_0a1b2c3d4e5f_[redacted]/x?a=1',
    );
    expect(redactedUrl(`/v1/stock/s%72_0a1b2c3d4e5f_AbCdEfGhIjKlMnOpQrStUvWxYz012345%20`)).toBe(
      '/v1/stock/s%72_0a1b2c3d4e5f_[redacted]%20',
    );
    // a SKU that only looks a little like one is left alone
    expect(redactedUrl('/v1/stock/sr_abc_SHORT')).toBe('/v1/stock/sr_abc_SHORT');
  });
});
