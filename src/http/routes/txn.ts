import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CatalogVerb, KVOp, TxnOp } from '../../state/commands.ts';
import { isReadOnly, type TxnResult } from '../../state/txn.ts';
import { blockingRead } from '../blocking.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { KV_MAX_VALUE_BYTES, TXN_MAX_BODY_BYTES, TXN_MAX_OPS } from '../limits.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import {
  checkFields,
  nodeFields,
  serviceFields,
  toCheckInput,
  toNodeInput,
  toServiceInput,
} from '../schemas.ts';
import { checkJson, kvJson, nodeJson, nodeServiceJson } from '../shapes.ts';

// /v1/txn: a JSON array of KV, Node, Service and Check operations, applied all-or-nothing. Read-only
// transactions are answered from local state without the log, as Consul does.

// Verbs are not checked here: like Consul, an unknown verb reaches the state store, which reports it as that
// op's error (a 409), so the casts below to the known verb types are deliberate.

const opSchema = z.object({
  KV: z
    .object({
      Verb: z.string(),
      Key: z.string(),
      Value: z.string().nullish(),
      Flags: z.number().int().min(0).nullish(),
      Index: z.number().int().min(0).nullish(),
      Session: z.string().nullish(),
    })
    .nullish(),
  Node: z.object({ Verb: z.string(), Node: nodeFields }).nullish(),
  Service: z.object({ Verb: z.string(), Node: z.string(), Service: serviceFields }).nullish(),
  Check: z.object({ Verb: z.string(), Check: checkFields }).nullish(),
});

export function txnRoutes(ctx: HttpContext): Routes {
  return {
    '/v1/txn': { PUT: (req, reply) => txn(ctx, req, reply), bodyLimit: TXN_MAX_BODY_BYTES },
  };
}

async function txn(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const body = decodeBody(req, z.array(opSchema));
  if (body.length > TXN_MAX_OPS) {
    throw new HttpError(413, `Transaction contains too many operations (${body.length} > ${TXN_MAX_OPS})`);
  }
  const ops = body.map((op, index) => toOp(op, index, ctx.agent.config.datacenter));
  const outcome = isReadOnly(ops)
    ? (
        await blockingRead(ctx, req, reply, () => ({
          index: ctx.store.lastIndex,
          value: ctx.store.readTxn(ops),
        }))
      ).value
    : await ctx.applier.apply({ type: 'txn', now: Date.now(), ops });
  if (outcome.errors) return sendJson(req, reply.status(409), { Results: null, Errors: outcome.errors });
  return sendJson(req, reply, { Results: (outcome.results ?? []).map(resultJson), Errors: null });
}

function toOp(op: z.output<typeof opSchema>, index: number, datacenter: string): TxnOp {
  if (op.KV) {
    const value = op.KV.Value ? Buffer.from(op.KV.Value, 'base64') : null;
    if (value && value.length > KV_MAX_VALUE_BYTES) {
      throw new HttpError(
        413,
        `Value for key "${op.KV.Key}" is too large (${value.length} > ${KV_MAX_VALUE_BYTES} bytes)`,
      );
    }
    return {
      KV: {
        Verb: op.KV.Verb as KVOp['Verb'],
        Key: op.KV.Key,
        Value: value && new Uint8Array(value),
        Flags: op.KV.Flags ?? 0,
        Index: op.KV.Index ?? 0,
        Session: op.KV.Session ?? '',
      },
    };
  }
  if (op.Node) {
    const node = toNodeInput(op.Node.Node, datacenter);
    return {
      Node: {
        Verb: op.Node.Verb as CatalogVerb,
        Node: { ...node, ModifyIndex: op.Node.Node.ModifyIndex ?? 0 },
      },
    };
  }
  if (op.Service) {
    const service = toServiceInput(op.Service.Service);
    return {
      Service: {
        Verb: op.Service.Verb as CatalogVerb,
        Node: op.Service.Node,
        Service: { ...service, ModifyIndex: op.Service.Service.ModifyIndex ?? 0 },
      },
    };
  }
  if (op.Check) {
    const check = toCheckInput(op.Check.Check, op.Check.Check.Node ?? '');
    return {
      Check: {
        Verb: op.Check.Verb as CatalogVerb,
        Check: { ...check, ModifyIndex: op.Check.Check.ModifyIndex ?? 0 },
      },
    };
  }
  throw new HttpError(400, `Operation ${index} has no KV, Node, Service or Check`);
}

function resultJson(result: TxnResult) {
  if ('KV' in result) return { KV: kvJson(result.KV) };
  if ('Node' in result) return { Node: nodeJson(result.Node) };
  if ('Service' in result) return { Service: nodeServiceJson(result.Service) };
  return { Check: checkJson(result.Check) };
}
