import { cpus, totalmem } from 'node:os';

export interface ScenarioResult {
  name: string;
  title: string;
  figures: Record<string, number | string>;
}

export function report(results: ScenarioResult[], options: { quick: boolean }): { json: string; markdown: string } {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const json = JSON.stringify({ at: new Date().toISOString(), quick: options.quick, machine, results }, null, 2);
  const lines = [
    `# stockroom bench${options.quick ? ' (quick)' : ''}`,
    '',
    `${new Date().toISOString()} on ${machine}`,
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.title}`, '', '| figure | value |', '| --- | --- |');
    for (const [k, v] of Object.entries(r.figures))
      lines.push(`| ${k} | ${typeof v === 'number' ? v.toLocaleString('en') : v} |`);
    lines.push('');
  }
  return { json: `${json}\n`, markdown: lines.join('\n') };
}
