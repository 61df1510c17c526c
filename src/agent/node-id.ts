import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from './config.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The node's identity, stable across restarts as Consul keeps it: -node-id if given, else `<data-dir>/node-id`
 * (created on first start), else a fresh UUID for an agent without a data directory (dev mode).
 */
export function resolveNodeId(config: AgentConfig): string {
  if (config.nodeId) return config.nodeId.toLowerCase();
  if (!config.dataDir) return randomUUID();
  const file = join(config.dataDir, 'node-id');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (!UUID.test(stored)) throw new Error(`${file} holds an invalid node ID: "${stored}"`);
    return stored.toLowerCase();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, id, { mode: 0o600 });
  return id;
}
