import { retrying } from '../rounds.ts';
import type { HttpTarget } from './http-client.ts';

// Service instances registered through /v1/catalog/register, as external services are: `instances` of
// service `service`, spread over nodes with `perNode` instances each (distinct IDs and ports).

export async function registerInstances(
  control: HttpTarget,
  service: string,
  instances: number,
  perNode: number,
  concurrency = 16,
): Promise<void> {
  const nodes = Math.ceil(instances / perNode);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < instances; i = next++) {
        const node = i % nodes;
        const slot = Math.floor(i / nodes);
        const body = JSON.stringify({
          Node: `${service}-node-${node}`,
          Address: `10.${(node >> 8) & 255}.${node & 255}.1`,
          Service: { ID: `${service}-${slot}`, Service: service, Port: 8000 + slot, Tags: ['bench'] },
        });
        await retrying(() => control.expectOk('PUT', '/v1/catalog/register', body));
      }
    }),
  );
}
