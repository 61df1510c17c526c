import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// Summarizes V8 .cpuprofile files (node --cpu-prof): each file's busy time, the functions with the most self
// time, and self time per package or source area, as shares of busy (non-idle) time.
// Usage: node --import tsx bench/tools/cpuprofile-top.ts <file-or-dir>... [--top N] [--callers NAME]
// (--callers: the call stacks, 8 frames up, that lead to functions named NAME, by self time)

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
const callersIndex = args.indexOf('--callers');
const callersOf = callersIndex >= 0 ? args[callersIndex + 1] : undefined;
const inputs = args.filter(
  (a, i) => !a.startsWith('--') && i !== topIndex + 1 && (callersIndex < 0 || i !== callersIndex + 1),
);
const files = inputs.flatMap((path) =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(path, f))
    : [path],
);
if (files.length === 0) {
  console.error('usage: cpuprofile-top.ts <file.cpuprofile | dir>... [--top N]');
  process.exit(1);
}

const ROOT = process.cwd();
const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
const byStack = new Map<string, number>();
let total = 0;

function area(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const path = relative(ROOT, url.replace(/^file:\/\//, ''));
  return path.split('/').slice(0, 2).join('/');
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  let busy = 0;
  let idle = 0;
  // Self time from the samples and their time deltas (µs), which hitCount alone does not weigh.
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const us = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      return;
    }
    busy += us;
    const where = url ? `${relative(ROOT, url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(area(url), (byArea.get(area(url)) ?? 0) + us);
    if (callersOf && functionName === callersOf) {
      const frames: string[] = [];
      for (let p = parents.get(id); p !== undefined && frames.length < 8; p = parents.get(p)) {
        const f = nodes.get(p)!.callFrame;
        frames.push(
          `${f.functionName || '(anonymous)'}@${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`,
        );
      }
      const stack = frames.join(' < ');
      byStack.set(stack, (byStack.get(stack) ?? 0) + us);
    }
    total += us;
  });
  console.log(
    `${relative(ROOT, file)}: busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`,
  );
}

const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
  }
};
console.log(`${files.length} profile(s), ${(total / 1e6).toFixed(1)} s busy in all`);
print('self time by function', byFunction, top);
print('self time by area', byArea, 20);
if (callersOf) print(`stacks leading to ${callersOf}`, byStack, 10);
