import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDocument } from '../src/http/document.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  location: { pointer?: string }[];
}

/**
 * Redocly's recommended rules (redocly.yaml) over the document the server serves, with the CLI installed as a dev
 * dependency: any error or warning fails, so the contract stays as a generator and a linter read it.
 */
describe('the OpenAPI document under Redocly lint', () => {
  let dir = '';
  let file = '';
  let document: {
    paths: Record<
      string,
      Record<string, { operationId?: string; responses?: Record<string, { headers?: Record<string, unknown> }> }>
    >;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stockroom-openapi-'));
    file = join(dir, 'openapi.json');
    document = (await apiDocument()) as typeof document;
    writeFileSync(file, JSON.stringify(document, null, 2));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the recommended rules with no error and no warning', async () => {
    const redocly = join(root, 'node_modules/.bin/redocly');
    const args = ['lint', file, '--format=json', `--config=${join(root, 'redocly.yaml')}`];
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
    // redocly exits non-zero when it finds an error: its report is read either way
    const { stdout } = await run(redocly, args, { env, maxBuffer: 64 * 1024 * 1024 }).catch((error: unknown) => ({
      stdout: (error as { stdout?: string }).stdout ?? '',
    }));
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: LintProblem[] };
    const problems = report.problems.map(
      (problem) =>
        `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer ?? '?'}: ${problem.message}`,
    );
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('names every operation with a camelCase operationId, once', () => {
    const ids = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((operation) => operation.operationId ?? ''),
    );
    expect(ids.filter((id) => !/^[a-z][a-zA-Z]*$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('says Retry-After on every 429 and 503, and 431 for headers too large on every operation', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ at: `${method} ${path}`, ...operation })),
    );
    const missing = operations.flatMap(({ at, responses = {} }) => [
      ...Object.entries(responses)
        .filter(([status, response]) => ['429', '503'].includes(status) && !response.headers?.['Retry-After'])
        .map(([status]) => `${at} ${status} without Retry-After`),
      ...('431' in responses ? [] : [`${at} without 431`]),
    ]);
    expect(missing).toEqual([]);
  });
});
