/**
 * `npx tsx bench/profile.ts FILE.cpuprofile [N]`: where a V8 CPU profile (from `npm run bench -- --profile`)
 * spent its time: the N functions with the most self time, and self time by package.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '30'] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile.ts FILE.cpuprofile [N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string): string => {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.includes('/dist/')) return `stockroom ${url.slice(url.indexOf('/dist/') + 6)}`;
  return url.startsWith('node:') ? url : url === '' ? '(native or idle)' : url;
};
const sum = (key: (n: ProfileNode) => string): [string, number][] => {
  const out = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (node) out.set(key(node), (out.get(key(node)) ?? 0) + us);
  }
  return [...out].sort((a, b) => b[1] - a[1]);
};
const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total ${(total / 1e6).toFixed(1)} s sampled\n\nby package or file:`);
for (const [k, us] of sum((n) => where(n.callFrame.url)).slice(0, 25)) console.log(`${pct(us)}  ${k}`);
console.log('\nby function:');
for (const [k, us] of sum(
  (n) => `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`,
).slice(0, Number(top))) {
  console.log(`${pct(us)}  ${k}`);
}
