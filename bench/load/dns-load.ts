import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import dnsPacket from 'dns-packet';
import type { LoadResult } from './closed-loop.ts';
import { Histogram } from './histogram.ts';

// A UDP DNS load generator in Node: `concurrency` queries in flight, each answered one sent again, for
// `durationMs`. bench/dns uses dnsperf (load/dnsperf.ts) and falls back to this one only when dnsperf is not
// installed; the same generator drives Tribune and the reference, so their figures compare.

export async function dnsLoad(
  server: { host: string; port: number },
  name: string,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const pending = new Map<number, number>();
  const latencies = new Histogram();
  let nextId = 1;
  let errors = 0;
  const deadline = performance.now() + durationMs;
  const send = () => {
    if (performance.now() >= deadline) return;
    const id = nextId++ & 0xffff;
    const packet = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name }],
    });
    pending.set(id, performance.now());
    socket.send(packet, server.port, server.host);
  };
  const done = new Promise<void>((resolve) => {
    socket.on('message', (message) => {
      const id = message.readUInt16BE(0);
      const started = pending.get(id);
      if (started === undefined) return;
      pending.delete(id);
      latencies.recordMs(performance.now() - started);
      if ((message[3]! & 0x0f) !== 0) errors++;
      if (performance.now() < deadline) send();
      else if (pending.size === 0) resolve();
    });
    // Lost datagrams would stall their slot: the run ends at the deadline plus a grace period regardless.
    setTimeout(resolve, durationMs + 2000).unref();
  });
  const started = performance.now();
  for (let i = 0; i < concurrency; i++) send();
  await done;
  const elapsed = (performance.now() - started) / 1000;
  socket.close();
  return {
    ops: latencies.count,
    throughput: latencies.count / elapsed,
    p50Ms: latencies.quantileMs(0.5),
    p99Ms: latencies.quantileMs(0.99),
    errors,
  };
}
