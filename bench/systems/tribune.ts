import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentFlavor } from './consul-api.ts';

// Tribune as the benchmarks run it: `node dist/cli/main.js` when built (npm run build), else the sources
// through tsx. TRIBUNE_BENCH_NODE_ARGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to
// profile the servers under a benchmark's load; servers are then stopped with SIGTERM so the profile is
// written.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPILED = join(ROOT, 'dist/cli/main.js');

export function tribuneEntry(): { args: string[]; kind: 'dist' | 'src' } {
  if (process.env.TRIBUNE_BENCH_ENTRY !== 'src' && existsSync(COMPILED)) {
    return { args: [COMPILED], kind: 'dist' };
  }
  return { args: ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')], kind: 'src' };
}

/** True when some file under src/ is newer than dist/cli/main.js: the build may not be what is benchmarked. */
export function distIsStale(): boolean {
  if (!existsSync(COMPILED)) return false;
  const built = statSync(COMPILED).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? newer(path) : statSync(path).mtimeMs > built;
    });
  return newer(join(ROOT, 'src'));
}

export function tribuneFlavor(): AgentFlavor {
  const nodeArgs = process.env.TRIBUNE_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return {
    system: 'tribune',
    command: process.execPath,
    prefixArgs: [...nodeArgs, ...tribuneEntry().args],
    extraArgs: [],
    gracefulStop: nodeArgs.some((a) => a.startsWith('--cpu-prof')),
  };
}

/**
 * What is benchmarked, read when the run starts: the commit, "+ uncommitted changes" when src/ had any, and
 * for a build the time dist/ was compiled (the build holds the tree of that moment).
 */
export function tribuneVersion(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  let version = 'unknown commit';
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src').length > 0;
    version = `${commit}${dirty ? ' + uncommitted changes under src/' : ''}`;
  } catch {
    // not a git checkout
  }
  if (tribuneEntry().kind === 'src') return `${version}, src/ through tsx`;
  const built = new Date(statSync(COMPILED).mtimeMs).toISOString().replace(/\.\d+Z$/, 'Z');
  return `${version}, dist/ compiled ${built}${distIsStale() ? ' (older than some src/ files)' : ''}`;
}
