import { randomUUID } from 'node:crypto';
import { SnapshotError } from '../../state/snapshot.ts';
import { readArchive, SnapshotArchiveError, writeArchive } from '../../state/snapshot-archive.ts';
import { readOptions } from '../blocking.ts';
import { rawBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest } from '../errors.ts';
import { queryOf } from '../query.ts';
import type { Routes } from '../router.ts';

/** Snapshots can be large; this bounds what one restore may upload. */
const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;

// /v1/snapshot: GET saves a point-in-time archive of the whole state, PUT restores one.

export function snapshotRoutes(ctx: HttpContext): Routes {
  return {
    '/v1/snapshot': {
      GET: async (req, reply) => {
        const { consistency } = readOptions(queryOf(req));
        const contact = await ctx.reads.prepare(consistency);
        const index = ctx.store.lastIndex;
        const archive = await writeArchive(
          { ID: `1-${index}-${Date.now()}-${randomUUID().slice(0, 8)}`, Index: index, Term: 1 },
          ctx.store.snapshot(),
        );
        return reply
          .header('X-Consul-Index', String(Math.max(index, 1)))
          .header('X-Consul-KnownLeader', String(contact.knownLeader))
          .header('X-Consul-LastContact', String(contact.lastContactMs))
          .type('application/x-gzip')
          .send(archive);
      },
      PUT: async (req, reply) => {
        try {
          const { state } = await readArchive(rawBody(req));
          await ctx.applier.restore(state);
        } catch (err) {
          if (err instanceof SnapshotArchiveError || err instanceof SnapshotError)
            throw badRequest(err.message);
          throw err;
        }
        await ctx.agent.afterRestore();
        return reply.send();
      },
      bodyLimit: MAX_SNAPSHOT_BYTES,
    },
  };
}
