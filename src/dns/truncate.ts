import type { Reply } from './answer.ts';
import { replyLength } from './message.ts';
import type { RR } from './records.ts';
import { QTYPE, type Request } from './wire.ts';

// Consul's trimming of replies that are too large. Over UDP a client without EDNS gets at most
// udp_answer_limit answers (and never more than 8) in 512 bytes; with EDNS, its advertised size. Over TCP the
// limit is a message's 64 KB. Answers are dropped from the end (the authority section first goes), and the
// additional section keeps only what the remaining SRV answers point at. The caller sets TC only when
// enable_truncate is on.

const DEFAULT_UDP_SIZE = 512;
/** Consul's cap on any UDP size: 65535 less the IP and UDP headers. */
const MAX_UDP_DATAGRAM = 65535 - 68;
const MAX_UDP_ANSWERS = 8;
/** 64 KB less the 12 bytes Consul leaves for overhead. */
const MAX_TCP_SIZE = 65523;

/** Trims `reply` in place for UDP; true when answers were left out. */
export function trimUdp(request: Request, reply: Reply, udpAnswerLimit: number): boolean {
  const original = reply.answers.length;
  const hasExtra = reply.additionals.length > 0;
  const index = hasExtra ? indexByName(reply.additionals) : undefined;
  let maxSize = DEFAULT_UDP_SIZE;
  if (request.edns && request.edns.udpSize > maxSize) maxSize = request.edns.udpSize;
  maxSize = Math.min(maxSize, MAX_UDP_DATAGRAM);

  const maxAnswers = Math.min(MAX_UDP_ANSWERS, udpAnswerLimit);
  if (maxSize === DEFAULT_UDP_SIZE && reply.answers.length > maxAnswers) {
    reply.answers = reply.answers.slice(0, maxAnswers);
    if (index) syncExtra(reply, index);
  }
  // The 8 bytes of the UDP header count against the size too.
  shrink(request, reply, maxSize, maxSize - 8, index);
  return reply.answers.length < original;
}

/** Trims `reply` in place for TCP; true when answers were left out. */
export function trimTcp(request: Request, reply: Reply): boolean {
  const index = reply.additionals.length > 0 ? indexByName(reply.additionals) : undefined;
  // More than 4096 records never fit in 64 KB, nor more than 1024 SRV records.
  const most = request.question.type === QTYPE.SRV ? 1024 : 4096;
  if (reply.answers.length > most) reply.answers = reply.answers.slice(0, most);
  const before = reply.answers.length;
  shrink(request, reply, MAX_TCP_SIZE, MAX_TCP_SIZE, index);
  return reply.answers.length < before;
}

/** Drops answers until the reply fits in `limit` bytes or one answer is left (it goes even if too large). */
function shrink(
  request: Request,
  reply: Reply,
  maxSize: number,
  limit: number,
  index: Map<string, RR> | undefined,
) {
  while (reply.answers.length > 1 && replyLength(request, reply) > limit) {
    reply.authorities = [];
    if (replyLength(request, reply) - maxSize > 100) {
      reply.answers = reply.answers.slice(0, bestCount(request, reply, maxSize, index));
    } else {
      reply.answers = reply.answers.slice(0, -1);
    }
    if (index) syncExtra(reply, index);
  }
}

/** How many answers fit in `maxSize`, found by bisection (Consul's dnsBinaryTruncate). */
function bestCount(
  request: Request,
  reply: Reply,
  maxSize: number,
  index: Map<string, RR> | undefined,
): number {
  const answers = reply.answers;
  let low = 0;
  let high = answers.length + 1;
  while (high - low > 1) {
    const median = low + Math.floor((high - low) / 2);
    reply.answers = answers.slice(0, median);
    if (index) syncExtra(reply, index);
    const length = replyLength(request, reply);
    if (length <= maxSize) {
      if (maxSize - length < 10) {
        low = median;
        break;
      }
      low = median;
    } else {
      high = median;
    }
  }
  reply.answers = answers;
  return low;
}

function indexByName(records: RR[]): Map<string, RR> {
  const index = new Map<string, RR>();
  for (const record of records) {
    const name = record.name.toLowerCase();
    if (!index.has(name)) index.set(name, record);
  }
  return index;
}

/** The additional section cut down to the records the SRV answers point at, following CNAMEs. */
function syncExtra(reply: Reply, index: Map<string, RR>): void {
  const extra: RR[] = [];
  const resolved = new Set<string>();
  for (const answer of reply.answers) {
    if (answer.type !== 'SRV') continue;
    let target = answer.data.target.toLowerCase();
    while (!resolved.has(target)) {
      resolved.add(target);
      const record = index.get(target);
      if (!record) break;
      extra.push(record);
      if (record.type !== 'CNAME') break;
      target = record.data.toLowerCase();
    }
  }
  reply.additionals = extra;
}
