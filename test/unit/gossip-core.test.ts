import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Awareness } from '../../src/gossip/core/awareness.ts';
import {
  defaultLANConfig,
  defaultWANConfig,
  type GossipConfig,
  resolveConfig,
} from '../../src/gossip/core/config.ts';
import { GossipCore } from '../../src/gossip/core/core.ts';
import { TransmitLimitedQueue } from '../../src/gossip/core/queue.ts';
import { estimateSize } from '../../src/gossip/core/size.ts';
import { Suspicion } from '../../src/gossip/core/suspicion.ts';
import {
  pushPullScale,
  remainingSuspicionTime,
  retransmitLimit,
  suspicionTimeout,
} from '../../src/gossip/core/timing.ts';
import type { GossipEvent, OutPacket, StreamRequest } from '../../src/gossip/core/types.ts';
import {
  DEFAULT_VSN,
  type GossipMessage,
  NodeStateCode,
  type PushNodeState,
  type PushPull,
  type Vsn,
} from '../../src/gossip/messages.ts';
import { seededRandom } from '../../src/raft/core/prng.ts';

// The membership core driven by hand: packets are delivered synchronously (or dropped) at times the test
// chooses, so each test builds exactly the situation it is about.

const ip = (i: number) => new Uint8Array([10, 0, 0, i]);
const EMPTY = new Uint8Array(0);
const bytes = (text: string) => new TextEncoder().encode(text);

/** A few cores on a hand-driven network. Nodes are named n1, n2, ... at 10.0.0.i:7946. */
class Cluster {
  readonly cores = new Map<string, GossipCore>();
  readonly events = new Map<string, GossipEvent[]>();
  readonly streams: { from: string; request: StreamRequest; at: number }[] = [];
  readonly sent: { from: string; packet: OutPacket }[] = [];
  /** Packets for which this returns true are lost. */
  drop: (from: string, packet: OutPacket) => boolean = () => false;

  add(i: number, config: Partial<GossipConfig> = {}, vsn: Vsn = DEFAULT_VSN, meta = EMPTY): GossipCore {
    const core = new GossipCore({
      name: `n${i}`,
      addr: ip(i),
      port: 7946,
      meta,
      vsn,
      config,
      random: seededRandom(i),
      now: 0,
    });
    this.cores.set(core.name, core);
    this.events.set(core.name, []);
    return core;
  }

  core(name: string): GossipCore {
    return this.cores.get(name)!;
  }

  /** Everyone learns everyone alive at incarnation 1, with empty queues and outputs. */
  connectAll(now = 0): void {
    const rows: PushNodeState[] = [...this.cores.values()].map((core) => {
      const self = core.localMember();
      return {
        Name: self.name,
        Addr: self.addr,
        Port: self.port,
        Meta: self.meta,
        Incarnation: 1,
        State: NodeStateCode.alive,
        Vsn: self.vsn,
      };
    });
    for (const core of this.cores.values()) {
      core.handlePushPullRequest({ join: false, nodes: rows, userState: EMPTY }, now);
      core.broadcasts.reset();
      core.takeOutput();
    }
  }

  /** Sends `packets` from `sender` now (unless dropped), synchronously. */
  deliver(sender: string, packets: OutPacket[], now: number): void {
    const source = this.core(sender).localMember();
    for (const packet of packets) {
      this.sent.push({ from: sender, packet });
      if (this.drop(sender, packet)) continue;
      const to = [...this.cores.values()].find((c) => c.localMember().addr[3] === packet.to.addr[3]);
      to?.handlePacket({ addr: source.addr, port: 7946 }, packet.messages, now);
    }
  }

  /** Collects every core's output, delivering packets (and what they cause) until the network is quiet. */
  pump(now: number): void {
    for (let round = 0; round < 100; round++) {
      let moved = false;
      for (const [name, core] of this.cores) {
        const out = core.takeOutput();
        this.events.get(name)!.push(...out.events);
        for (const request of out.streams) this.streams.push({ from: name, request, at: now });
        if (out.packets.length > 0) moved = true;
        this.deliver(name, out.packets, now);
      }
      if (!moved) return;
    }
    throw new Error('the network never went quiet');
  }

  /** Runs every core in time order until `until`, delivering everything at once. */
  run(until: number): void {
    for (;;) {
      let next: GossipCore | null = null;
      let at = Infinity;
      for (const core of this.cores.values()) {
        const due = core.nextDeadline();
        if (due < at) [next, at] = [core, due];
      }
      if (next === null || at > until) return;
      next.tick(at);
      this.pump(at);
    }
  }

  eventsOf(name: string, type: GossipEvent['type']): GossipEvent[] {
    return this.events.get(name)!.filter((event) => event.type === type);
  }

  /** Messages of a type sent by `from` since the last `clearSent`. */
  sentBy(from: string, type: GossipMessage['type']): { to: string; message: GossipMessage }[] {
    return this.sent
      .filter((entry) => entry.from === from)
      .flatMap((entry) =>
        entry.packet.messages
          .filter((m) => m.type === type)
          .map((message) => ({ to: entry.packet.to.name, message })),
      );
  }

  clearSent(): void {
    this.sent.length = 0;
  }
}

/**
 * Ticks `name` until its next probe goes out; returns the probed node's name, the ping's time and the
 * packets produced with it (not yet delivered: hand them to `cluster.deliver`).
 */
function advanceToProbe(
  cluster: Cluster,
  name: string,
): { target: string; at: number; packets: OutPacket[] } {
  const core = cluster.core(name);
  for (let i = 0; i < 50; i++) {
    const at = core.nextDeadline();
    core.tick(at);
    const out = core.takeOutput();
    cluster.events.get(name)!.push(...out.events);
    for (const request of out.streams) cluster.streams.push({ from: name, request, at });
    const ping = out.packets.find((p) => p.messages[0]?.type === 'ping');
    if (ping !== undefined) return { target: ping.to.name, at, packets: out.packets };
    cluster.deliver(name, out.packets, at);
  }
  throw new Error('no probe');
}

const alive = (i: number, incarnation: number, meta = EMPTY): GossipMessage => ({
  type: 'alive',
  body: { Incarnation: incarnation, Node: `n${i}`, Addr: ip(i), Port: 7946, Meta: meta, Vsn: DEFAULT_VSN },
});
const suspect = (node: string, incarnation: number, from: string): GossipMessage => ({
  type: 'suspect',
  body: { Incarnation: incarnation, Node: node, From: from },
});
const dead = (node: string, incarnation: number, from: string): GossipMessage => ({
  type: 'dead',
  body: { Incarnation: incarnation, Node: node, From: from },
});
const from = (i: number) => ({ addr: ip(i), port: 7946 });

describe('timing rules (memberlist util.go / suspicion.go)', () => {
  test('suspicion timeout scales with log10 of the cluster, never below one', () => {
    assert.equal(suspicionTimeout(4, 1, 1000), 4000);
    assert.equal(suspicionTimeout(4, 10, 1000), 4000);
    assert.equal(suspicionTimeout(4, 1000, 1000), 12_000);
    assert.equal(suspicionTimeout(4, 200, 1000), 9204);
    assert.equal(suspicionTimeout(6, 100, 5000), 60_000);
  });

  test('retransmit limit is mult × ceil(log10(n + 1))', () => {
    assert.equal(retransmitLimit(4, 0), 0);
    assert.equal(retransmitLimit(4, 1), 4);
    assert.equal(retransmitLimit(4, 9), 4);
    assert.equal(retransmitLimit(4, 10), 8);
    assert.equal(retransmitLimit(4, 99), 8);
    assert.equal(retransmitLimit(4, 200), 12);
    assert.equal(retransmitLimit(4, 1000), 16);
  });

  test('push/pull interval stretches once the cluster passes 32 nodes', () => {
    assert.equal(pushPullScale(30_000, 1), 30_000);
    assert.equal(pushPullScale(30_000, 32), 30_000);
    assert.equal(pushPullScale(30_000, 33), 60_000);
    assert.equal(pushPullScale(30_000, 64), 60_000);
    assert.equal(pushPullScale(30_000, 65), 90_000);
    assert.equal(pushPullScale(30_000, 1000), 180_000);
  });

  test('remaining suspicion time falls from max to min as log(n + 1) / log(k + 1)', () => {
    const [min, max, k] = [2000, 30_000, 3];
    assert.equal(remainingSuspicionTime(0, k, 0, min, max), max);
    assert.equal(remainingSuspicionTime(1, k, 0, min, max), 16_000);
    assert.equal(remainingSuspicionTime(2, k, 0, min, max), 7810);
    assert.equal(remainingSuspicionTime(3, k, 0, min, max), min);
    assert.equal(remainingSuspicionTime(3, k, 5000, min, max), -3000);
  });

  test('LAN and WAN defaults are memberlist’s', () => {
    assert.deepEqual(
      [
        defaultLANConfig.probeIntervalMs,
        defaultLANConfig.probeTimeoutMs,
        defaultLANConfig.gossipIntervalMs,
        defaultLANConfig.gossipNodes,
        defaultLANConfig.suspicionMult,
        defaultLANConfig.suspicionMaxTimeoutMult,
        defaultLANConfig.retransmitMult,
        defaultLANConfig.pushPullIntervalMs,
        defaultLANConfig.indirectChecks,
        defaultLANConfig.awarenessMaxMultiplier,
        defaultLANConfig.gossipToTheDeadTimeMs,
        defaultLANConfig.udpBufferSize,
      ],
      [1000, 500, 200, 3, 4, 6, 4, 30_000, 3, 8, 30_000, 1400],
    );
    assert.deepEqual(
      [
        defaultWANConfig.probeIntervalMs,
        defaultWANConfig.probeTimeoutMs,
        defaultWANConfig.gossipIntervalMs,
        defaultWANConfig.gossipNodes,
        defaultWANConfig.suspicionMult,
        defaultWANConfig.pushPullIntervalMs,
        defaultWANConfig.gossipToTheDeadTimeMs,
      ],
      [5000, 3000, 500, 4, 6, 60_000, 60_000],
    );
    assert.throws(() => resolveConfig({ probeTimeoutMs: 2000 }), /probeTimeoutMs/);
    assert.throws(() => resolveConfig({ gossipNodes: -1 }), /gossipNodes/);
  });
});

describe('awareness', () => {
  test('stays within 0..max−1 and scales timeouts by score + 1', () => {
    const awareness = new Awareness(8);
    awareness.applyDelta(-1);
    assert.equal(awareness.healthScore, 0);
    assert.equal(awareness.scaleTimeout(1000), 1000);
    awareness.applyDelta(3);
    assert.equal(awareness.scaleTimeout(1000), 4000);
    awareness.applyDelta(100);
    assert.equal(awareness.healthScore, 7);
    assert.equal(awareness.scaleTimeout(1000), 8000);
  });
});

describe('suspicion timer', () => {
  test('starts at max and shrinks toward min with each new independent confirmation', () => {
    const s = new Suspicion('accuser', 3, 2000, 30_000, 0);
    assert.equal(s.deadline, 30_000);
    assert.equal(s.confirm('accuser', 100), false, 'the accuser does not confirm itself');
    assert.equal(s.confirm('a', 100), true);
    assert.equal(s.deadline, 16_000);
    assert.equal(s.confirm('a', 200), false, 'one confirmation per member');
    assert.equal(s.confirm('b', 200), true);
    assert.equal(s.deadline, 7810);
    assert.equal(s.confirm('c', 300), true);
    assert.equal(s.deadline, 2000);
    assert.equal(s.confirm('d', 400), false, 'k confirmations reached');
    assert.equal(s.deadline, 2000);
  });

  test('a confirmation after the new timeout has passed expires it at once', () => {
    const s = new Suspicion('x', 3, 2000, 30_000, 0);
    s.confirm('a', 17_000);
    assert.equal(s.deadline, 17_000);
  });

  test('with no confirmations expected it runs for min', () => {
    const s = new Suspicion('x', 0, 2000, 30_000, 500);
    assert.equal(s.deadline, 2500);
    assert.equal(s.confirm('a', 600), false);
  });
});

describe('transmit-limited queue', () => {
  const item = (name: string | null, size: number, onFinished?: () => void) => ({
    name,
    message: `${name}:${size}`,
    size,
    onFinished,
  });

  test('hands out the freshest tier first, largest then newest within a tier', () => {
    const q = new TransmitLimitedQueue<string>(4, () => 10);
    q.queue(item('a', 10));
    q.queue(item('b', 30));
    q.queue(item('c', 10));
    q.queue(item('d', 20), 1);
    assert.deepEqual(
      q.view().map((v) => v.broadcast.message),
      ['b:30', 'c:10', 'a:10', 'd:20'],
    );
    assert.deepEqual(q.getBroadcasts(2, 1000), ['b:30', 'c:10', 'a:10', 'd:20']);
    assert.deepEqual(
      q.view().map((v) => [v.broadcast.message, v.transmits]),
      [
        ['b:30', 1],
        ['c:10', 1],
        ['a:10', 1],
        ['d:20', 2],
      ],
    );
  });

  test('fills up to the byte limit counting the per-message overhead, skipping what does not fit', () => {
    const q = new TransmitLimitedQueue<string>(4, () => 10);
    q.queue(item('big', 100));
    q.queue(item('mid', 50));
    q.queue(item('small', 10));
    assert.deepEqual(q.getBroadcasts(2, 70), ['mid:50', 'small:10']);
    assert.deepEqual(q.getBroadcasts(2, 20), ['small:10']);
    assert.deepEqual(q.getBroadcasts(2, 11), []);
  });

  test('a broadcast about the same name invalidates the queued one', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue<string>(4, () => 10);
    q.queue(item('n1', 10, () => finished.push('old')));
    q.queue(item('n2', 10));
    q.queue(item('n1', 12, () => finished.push('new')));
    assert.deepEqual(finished, ['old']);
    assert.equal(q.length, 2);
    assert.deepEqual(q.getBroadcasts(0, 1000), ['n1:12', 'n2:10']);
    q.queue(item(null, 5));
    q.queue(item(null, 5));
    assert.equal(q.length, 4, 'unnamed broadcasts never replace each other');
  });

  test('drops a broadcast after mult × ceil(log10(n + 1)) transmits and reports it finished', () => {
    let nodes = 9;
    let finished = 0;
    const q = new TransmitLimitedQueue<string>(3, () => nodes);
    q.queue(item('x', 10, () => finished++));
    for (let i = 0; i < 2; i++) assert.deepEqual(q.getBroadcasts(0, 100), ['x:10']);
    assert.equal(finished, 0);
    assert.deepEqual(q.getBroadcasts(0, 100), ['x:10']);
    assert.equal(finished, 1);
    assert.equal(q.length, 0);
    assert.deepEqual(q.getBroadcasts(0, 100), []);
    // The limit is taken from the cluster size at hand-out time.
    nodes = 99;
    q.queue(item('y', 10));
    for (let i = 0; i < 6; i++) q.getBroadcasts(0, 100);
    assert.equal(q.length, 0);
  });

  test('prune keeps the freshest, reset drops all', () => {
    let finished = 0;
    const q = new TransmitLimitedQueue<string>(4, () => 10);
    for (let i = 0; i < 5; i++)
      q.queue(
        item(`n${i}`, 10, () => finished++),
        i,
      );
    q.prune(2);
    assert.deepEqual(
      q.view().map((v) => v.broadcast.message),
      ['n0:10', 'n1:10'],
    );
    assert.equal(finished, 3);
    q.reset();
    assert.equal(q.length, 0);
    assert.equal(finished, 5);
  });
});

describe('message size estimate', () => {
  test('matches go-msgpack’s encoding of an alive and a ping', () => {
    // [4] + fixmap(6) + keys + values.
    const meta = new Uint8Array(40);
    const aliveSize = estimateSize(alive(1, 1, meta));
    const expected = 1 + 1 + (12 + 1) + (5 + 1 + 2) + (5 + 1 + 4) + (5 + 3) + (5 + 2 + 40) + (4 + 1 + 6);
    assert.equal(aliveSize, expected);
    const pingSize = estimateSize({
      type: 'ping',
      body: { SeqNo: 300, Node: 'n2', SourceAddr: ip(1), SourcePort: 7946, SourceNode: 'n1' },
    });
    assert.equal(pingSize, 1 + 1 + (6 + 3) + (5 + 3) + (11 + 5) + (11 + 3) + (11 + 3));
  });
});

describe('member state rules', () => {
  test('a new node joins once; an update of meta is an update; old incarnations are ignored', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(2, 1)], 10);
    cluster.pump(10);
    assert.deepEqual(
      cluster.eventsOf('n1', 'join').map((e) => (e.type === 'join' ? e.member.name : '')),
      ['n1', 'n2'],
    );
    a.handlePacket(from(2), [alive(2, 1, bytes('same incarnation'))], 20);
    assert.deepEqual(a.member('n2')?.meta, EMPTY, 'equal incarnation is stale');
    a.handlePacket(from(2), [alive(2, 5, bytes('tags'))], 30);
    a.handlePacket(from(2), [alive(2, 4, bytes('older'))], 40);
    cluster.pump(40);
    assert.equal(a.member('n2')?.incarnation, 5);
    assert.deepEqual(a.member('n2')?.meta, bytes('tags'));
    assert.equal(cluster.eventsOf('n1', 'update').length, 1);
  });

  test('suspect needs an incarnation at least the known one; a newer alive clears it', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(2, 3)], 0);
    a.handlePacket(from(3), [suspect('n2', 2, 'n3')], 10);
    assert.equal(a.member('n2')?.state, 'alive', 'stale suspicion ignored');
    a.handlePacket(from(3), [suspect('n2', 3, 'n3')], 20);
    assert.equal(a.member('n2')?.state, 'suspect');
    assert.notEqual(a.suspicionDeadline('n2'), undefined);
    a.handlePacket(from(2), [alive(2, 3)], 30);
    assert.equal(a.member('n2')?.state, 'suspect', 'the same incarnation does not clear a suspicion');
    a.handlePacket(from(2), [alive(2, 4)], 40);
    assert.equal(a.member('n2')?.state, 'alive');
    assert.equal(a.suspicionDeadline('n2'), undefined);
  });

  test('a suspicion of ourselves is refuted with a higher incarnation, at a health cost', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(2, 1)], 0);
    a.broadcasts.reset();
    a.handlePacket(from(2), [suspect('n1', 7, 'n2')], 10);
    const self = a.localMember();
    assert.equal(self.state, 'alive');
    assert.equal(self.incarnation, 8);
    assert.equal(a.healthScore(), 1);
    const queued = a.broadcasts.view().map((v) => v.broadcast.message);
    assert.equal(queued.length, 1);
    assert.equal(queued[0]?.type, 'alive');
    assert.equal(queued[0]?.type === 'alive' && queued[0].body.Incarnation, 8);
    // A dead message about us is refuted the same way.
    a.handlePacket(from(2), [dead('n1', 8, 'n2')], 20);
    assert.equal(a.localMember().state, 'alive');
    assert.equal(a.localMember().incarnation, 9);
    assert.equal(a.healthScore(), 2);
  });

  test('an alive about ourselves that differs from what we say is refuted', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(1, 1)], 0);
    assert.equal(a.localMember().incarnation, 1, 'the same story is fine');
    a.handlePacket(from(2), [alive(1, 1, bytes('forged'))], 10);
    assert.equal(a.localMember().incarnation, 2);
    assert.deepEqual(a.localMember().meta, EMPTY);
  });

  test('dead from the node itself means left; from another, failed; stale deaths are ignored', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(2, 2), alive(3, 1)], 0);
    a.handlePacket(from(4), [dead('n2', 1, 'n4')], 10);
    assert.equal(a.member('n2')?.state, 'alive');
    a.handlePacket(from(2), [dead('n2', 2, 'n2')], 20);
    a.handlePacket(from(4), [dead('n3', 1, 'n4')], 30);
    cluster.pump(30);
    assert.equal(a.member('n2')?.state, 'left');
    assert.equal(a.member('n3')?.state, 'dead');
    assert.deepEqual(
      cluster.events
        .get('n1')!
        .flatMap((e) => (e.type === 'leave' || e.type === 'fail' ? [`${e.type} ${e.member.name}`] : [])),
      ['leave n2', 'fail n3'],
    );
    // Coming back needs a newer incarnation, and is a join.
    a.handlePacket(from(3), [alive(3, 1)], 40);
    assert.equal(a.member('n3')?.state, 'dead');
    a.handlePacket(from(3), [alive(3, 2)], 50);
    cluster.pump(50);
    assert.equal(a.member('n3')?.state, 'alive');
    assert.equal(
      cluster.eventsOf('n1', 'join').filter((e) => e.type === 'join' && e.member.name === 'n3').length,
      2,
    );
  });

  test('a name claimed from another address is a conflict unless the holder left', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(2, 1)], 0);
    const impostor: GossipMessage = {
      type: 'alive',
      body: { Incarnation: 9, Node: 'n2', Addr: ip(99), Port: 7946, Meta: EMPTY, Vsn: DEFAULT_VSN },
    };
    a.handlePacket(from(99), [impostor], 10);
    cluster.pump(10);
    assert.deepEqual(a.member('n2')?.addr, ip(2));
    assert.equal(cluster.eventsOf('n1', 'conflict').length, 1);
    a.handlePacket(from(2), [dead('n2', 1, 'n2')], 20);
    a.handlePacket(from(99), [impostor], 30);
    assert.deepEqual(a.member('n2')?.addr, ip(99));
    assert.equal(a.member('n2')?.state, 'alive');
  });

  test('a suspect times out into a failure, sooner with independent confirmations', () => {
    const cluster = new Cluster();
    for (let i = 1; i <= 10; i++) cluster.add(i);
    cluster.connectAll();
    const a = cluster.core('n1');
    const min = suspicionTimeout(4, 10, 1000);
    a.handlePacket(from(3), [suspect('n2', 1, 'n3')], 1000);
    assert.equal(a.suspicionDeadline('n2'), 1000 + 6 * min, 'max at first');
    a.handlePacket(from(4), [suspect('n2', 1, 'n4')], 2000);
    const afterOne = a.suspicionDeadline('n2')!;
    assert.ok(afterOne < 1000 + 6 * min && afterOne > 1000 + min, `deadline ${afterOne}`);
    // The confirmation is gossiped on; a repeat is not.
    const queuedSuspects = a.broadcasts.view().filter((v) => v.broadcast.message.type === 'suspect').length;
    assert.equal(queuedSuspects, 1);
    a.handlePacket(from(4), [suspect('n2', 1, 'n4')], 2100);
    a.handlePacket(from(5), [suspect('n2', 1, 'n5')], 2200);
    assert.equal(a.suspicionDeadline('n2'), 1000 + min, 'k = suspicionMult − 2 = 2 confirmations reach min');
    a.tick(1000 + min - 1);
    assert.equal(a.member('n2')?.state, 'suspect');
    a.tick(1000 + min);
    cluster.pump(1000 + min);
    assert.equal(a.member('n2')?.state, 'dead');
    const failed = cluster.eventsOf('n1', 'fail');
    assert.equal(failed.length, 1);
    const queued = a.broadcasts.view().find((v) => v.broadcast.name === 'n2')?.broadcast.message;
    assert.deepEqual(queued, dead('n2', 1, 'n1'));
  });

  test('in a cluster too small for confirmations the suspicion runs for min', () => {
    const cluster = new Cluster();
    for (let i = 1; i <= 3; i++) cluster.add(i);
    cluster.connectAll();
    const a = cluster.core('n1');
    a.handlePacket(from(3), [suspect('n2', 1, 'n3')], 0);
    assert.equal(a.suspicionDeadline('n2'), suspicionTimeout(4, 3, 1000));
  });
});

describe('probing', () => {
  test('a direct ack ends the probe, improves health and reports the round trip', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    cluster.add(2);
    cluster.connectAll();
    a.handlePacket(from(2), [suspect('n1', 1, 'n2')], 0); // health 1 after refuting
    cluster.pump(0);
    assert.equal(a.healthScore(), 1);
    const { target, at, packets } = advanceToProbe(cluster, 'n1');
    assert.equal(target, 'n2');
    cluster.deliver('n1', packets, at);
    cluster.pump(at + 1);
    assert.equal(a.healthScore(), 0);
    const complete = cluster.eventsOf('n1', 'pingComplete');
    assert.equal(complete.length, 1);
    assert.equal(complete[0]?.type === 'pingComplete' && complete[0].member.name, 'n2');
    assert.equal(complete[0]?.type === 'pingComplete' && complete[0].rttMs, 1);
    assert.equal(a.member('n2')?.state, 'alive');
  });

  test('a ping addressed to another node name is not answered', () => {
    const cluster = new Cluster();
    const b = cluster.add(2);
    const ping = (seq: number, node: string): GossipMessage => ({
      type: 'ping',
      body: { SeqNo: seq, Node: node, SourceAddr: ip(1), SourcePort: 7946, SourceNode: 'n1' },
    });
    b.handlePacket(from(1), [ping(1, 'someone-else')], 0);
    assert.equal(b.takeOutput().packets.length, 0);
    b.handlePacket(from(7), [ping(2, 'n2')], 0);
    const [ack] = b.takeOutput().packets;
    assert.deepEqual(ack?.messages[0], { type: 'ackResp', body: { SeqNo: 2, Payload: EMPTY } });
    assert.deepEqual(ack?.to.addr, ip(1), 'the ack goes to SourceAddr, not the packet source');
  });

  test('a lost direct ping is saved by an indirect probe through k members', () => {
    const cluster = new Cluster();
    const a = cluster.add(1, { disableTcpPings: true });
    for (let i = 2; i <= 6; i++) cluster.add(i);
    cluster.connectAll();
    const { target, at, packets } = advanceToProbe(cluster, 'n1');
    // Only n1's own packets to the target are lost.
    cluster.drop = (sender, packet) => sender === 'n1' && packet.to.name === target;
    cluster.deliver('n1', packets, at);
    cluster.pump(at);
    a.tick(at + 499);
    assert.equal(a.takeOutput().packets.length, 0, 'nothing before the probe timeout');
    a.tick(at + 500);
    const out = a.takeOutput();
    const requests = out.packets.filter((p) => p.messages[0]?.type === 'indirectPing');
    assert.equal(requests.length, 3, 'indirectChecks = 3');
    assert.ok(
      requests.every((p) => p.to.name !== target && p.to.name !== 'n1'),
      'relays are neither us nor the target',
    );
    const first = requests[0]!.messages[0]!;
    const body = first.type === 'indirectPing' ? first.body : null;
    assert.equal(body?.Node, target);
    assert.equal(body?.Nack, true, 'peers with pmax ≥ 4 are asked for nacks');
    cluster.deliver('n1', out.packets, at + 501);
    cluster.pump(at + 502);
    assert.equal(a.member(target)?.state, 'alive');
    assert.equal(a.healthScore(), 0);
    assert.equal(cluster.eventsOf('n1', 'pingComplete').length, 0, 'no round trip from a relayed ack');
    // The relays got their acks from the target and forwarded them; none nacks afterwards.
    cluster.clearSent();
    for (let i = 2; i <= 6; i++) cluster.core(`n${i}`).tick(at + 1100);
    cluster.pump(at + 1100);
    assert.equal(cluster.sent.filter((s) => s.packet.messages[0]?.type === 'nackResp').length, 0);
  });

  /** n1 probes a target that is down; relays nack at `relayTime`; returns n1's health score after. */
  function probeDeadTarget(options: { health?: number; silentRelays?: number; relayVsn?: Vsn }) {
    const cluster = new Cluster();
    const a = cluster.add(1, { disableTcpPings: true });
    for (let i = 2; i <= 5; i++) cluster.add(i, {}, options.relayVsn ?? DEFAULT_VSN);
    cluster.connectAll();
    const before = options.health ?? 0;
    for (let i = 0; i < before; i++) a.handlePacket(from(2), [suspect('n1', i + 1, 'n2')], 0);
    a.broadcasts.reset();
    a.takeOutput();
    assert.equal(a.healthScore(), before);
    const { target, at, packets } = advanceToProbe(cluster, 'n1');
    const endAt = at + 1000 * (before + 1);
    const silent = new Set<string>();
    cluster.drop = (sender, packet) =>
      packet.to.name === target ||
      sender === target ||
      (silent.has(sender) && packet.messages[0]?.type === 'nackResp');
    cluster.deliver('n1', packets, at);
    a.tick(at + 500);
    const out = a.takeOutput();
    const relays = out.packets.filter((p) => p.messages[0]?.type === 'indirectPing').map((p) => p.to.name);
    for (const relay of relays.slice(0, options.silentRelays ?? 0)) silent.add(relay);
    // The relays get the request 1 ms later and ping the target (lost); they nack 500 ms after that.
    cluster.deliver('n1', out.packets, at + 501);
    const nacksAt = at + 1001;
    const relaysNack = () => {
      for (const relay of relays) cluster.core(relay).tick(nacksAt);
      cluster.pump(nacksAt);
    };
    if (nacksAt < endAt) relaysNack();
    // Read the score right after the verdict: the next probe starts in the same tick and may succeed.
    a.tick(endAt);
    const health = a.healthScore();
    cluster.pump(endAt);
    if (nacksAt >= endAt) relaysNack();
    return { a, target, health, before, relays: relays.length };
  }

  test('Lifeguard: nacks from every relay in time leave the health score alone; the target is suspected', () => {
    // At health 1 the probe window is 2 s, so nacks sent 500 ms after the relays' pings arrive in time.
    const { a, target, health, before, relays } = probeDeadTarget({ health: 1 });
    assert.equal(relays, 3);
    assert.equal(a.member(target)?.state, 'suspect');
    assert.equal(health, before);
  });

  test('Lifeguard: each missing nack costs a health point', () => {
    const { health, before } = probeDeadTarget({ health: 1, silentRelays: 2 });
    assert.equal(health, before + 2);
  });

  test('Lifeguard: without nack-capable relays a failed probe costs one point', () => {
    const { health, before } = probeDeadTarget({ health: 1, relayVsn: [1, 3, 2, 2, 5, 5] });
    assert.equal(health, before + 1);
  });

  test('memberlist’s timing: at health 0 relays nack after the 1 s probe window closed, so all count as missed', () => {
    const { a, target, health } = probeDeadTarget({ health: 0 });
    assert.equal(a.member(target)?.state, 'suspect');
    assert.equal(health, 3);
  });

  test('a stream ping answered after failed UDP probes keeps the member alive', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    cluster.add(2);
    cluster.connectAll();
    const { target, at, packets } = advanceToProbe(cluster, 'n1');
    cluster.drop = () => true;
    cluster.deliver('n1', packets, at);
    a.tick(at + 500);
    cluster.pump(at + 500);
    const stream = cluster.streams.find((s) => s.request.kind === 'ping');
    assert.ok(stream, 'a stream ping was asked for');
    assert.equal(stream.request.deadline, at + 1000);
    assert.equal(stream.request.to.name, target);
    const ack =
      stream.request.kind === 'ping' ? cluster.core(target).handleStreamPing(stream.request.ping) : null;
    assert.notEqual(ack, null);
    a.handleStreamPingResult(stream.request.id, true);
    a.tick(at + 1000);
    assert.equal(a.member(target)?.state, 'alive');
    // Without the stream ack the same probe ends in suspicion.
    const next = advanceToProbe(cluster, 'n1');
    cluster.deliver('n1', next.packets, next.at);
    a.tick(next.at + 500);
    cluster.pump(next.at + 500);
    const second = cluster.streams.at(-1)!;
    a.streamFailed(second.request.id);
    a.tick(next.at + 1000);
    assert.equal(a.member(target)?.state, 'suspect');
  });

  test('a suspect member is pinged with the accusation attached, and refutes', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    const b = cluster.add(2);
    cluster.connectAll();
    a.handlePacket(from(3), [suspect('n2', 1, 'n9')], 0);
    a.broadcasts.reset();
    a.takeOutput();
    const { at, packets } = advanceToProbe(cluster, 'n1');
    const probe = packets.find((p) => p.messages[0]?.type === 'ping')!;
    assert.deepEqual(
      probe.messages.map((m) => m.type),
      ['ping', 'suspect'],
    );
    cluster.deliver('n1', packets, at);
    cluster.pump(at);
    assert.equal(b.localMember().incarnation, 2, 'n2 refuted');
    // The refutation travels with n2's next gossip.
    for (let i = 0; i < 5; i++) {
      const t = b.nextDeadline();
      b.tick(t);
      cluster.pump(t);
    }
    assert.equal(a.member('n2')?.state, 'alive');
    assert.equal(a.member('n2')?.incarnation, 2);
  });

  test('failed probes under a worse health score come further apart', () => {
    const cluster = new Cluster();
    const a = cluster.add(1, { disableTcpPings: true });
    for (let i = 2; i <= 4; i++) cluster.add(i);
    cluster.connectAll();
    cluster.drop = () => true;
    a.handlePacket(from(2), [suspect('n1', 1, 'n2')], 0);
    a.handlePacket(from(2), [suspect('n1', 2, 'n2')], 0);
    assert.equal(a.healthScore(), 2);
    a.takeOutput();
    const first = advanceToProbe(cluster, 'n1');
    cluster.deliver('n1', first.packets, first.at);
    const second = advanceToProbe(cluster, 'n1');
    // Health 2 → the probe lasts 3 s; the tick that fell meanwhile runs as soon as it ends.
    assert.equal(second.at - first.at, 3000);
    assert.equal(a.healthScore(), 4, 'two relays should have nacked, neither did');
  });
});

describe('gossip', () => {
  test('pending broadcasts ride on probe pings', () => {
    const cluster = new Cluster();
    cluster.add(1, { gossipIntervalMs: 0 });
    for (let i = 2; i <= 6; i++) cluster.add(i);
    cluster.connectAll();
    cluster.core('n1').handlePacket(from(9), [alive(9, 1)], 0);
    cluster.core('n1').takeOutput();
    const { packets } = advanceToProbe(cluster, 'n1');
    assert.deepEqual(
      packets[0]?.messages.map((m) => m.type),
      ['ping', 'alive'],
    );
  });

  test('gossip goes to gossipNodes members per interval until the retransmit limit', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    for (let i = 2; i <= 6; i++) cluster.add(i);
    cluster.connectAll();
    a.handlePacket(from(9), [alive(9, 1)], 0);
    a.takeOutput();
    cluster.drop = () => true;
    // 7 members: retransmitMult × ceil(log10(7 + 1)) = 4 sends in all, pings included.
    let now = 0;
    for (let i = 0; i < 20; i++) {
      now = a.nextDeadline();
      a.tick(now);
      cluster.pump(now);
    }
    const carrying = cluster.sent.filter(
      (s) => s.from === 'n1' && s.packet.messages.some((m) => m.type === 'alive'),
    );
    assert.equal(carrying.length, 4);
    assert.equal(a.broadcasts.length, 0);
    assert.ok(
      carrying.every((g) => g.packet.to.name !== 'n1'),
      'never to ourselves',
    );
    const firstRound = carrying.filter((g) => g.packet.messages[0]?.type === 'alive');
    assert.ok(firstRound.length >= 3, 'a gossip round sends to up to three members');
  });

  test('a gossip packet holds no more than the UDP budget', () => {
    const cluster = new Cluster();
    const a = cluster.add(1, { udpBufferSize: 400 });
    for (let i = 2; i <= 4; i++) cluster.add(i);
    cluster.connectAll();
    for (let i = 10; i < 40; i++) a.handlePacket(from(i), [alive(i, 1, new Uint8Array(30))], 0);
    a.takeOutput();
    cluster.drop = () => true;
    let now = 0;
    for (let i = 0; i < 6; i++) {
      now = Math.max(now, a.nextDeadline());
      a.tick(now);
      cluster.pump(now);
    }
    const sizes = cluster.sent
      .filter((s) => s.from === 'n1')
      .map((s) => s.packet.messages.reduce((sum, m) => sum + estimateSize(m) + 2, 2));
    assert.ok(sizes.length > 0, 'something was gossiped');
    assert.ok(Math.max(...sizes) <= 400, `largest packet ${Math.max(...sizes)}`);
  });

  test('the dead keep receiving gossip for gossipToTheDeadTime, the left never', () => {
    const cluster = new Cluster();
    const a = cluster.add(1, { gossipNodes: 5 });
    cluster.add(2);
    cluster.add(3);
    cluster.connectAll();
    a.handlePacket(from(4), [dead('n2', 1, 'n4'), dead('n3', 1, 'n3')], 0);
    // Something to gossip (about n9, a new member), then one gossip interval's worth of ticks.
    cluster.drop = () => true;
    const runUntil = (until: number) => {
      while (a.nextDeadline() <= until) {
        const at = a.nextDeadline();
        a.tick(at);
        cluster.pump(at);
      }
    };
    const receivers = (now: number) => {
      runUntil(now);
      cluster.clearSent();
      a.handlePacket(from(9), [alive(9, now)], now);
      a.takeOutput();
      while (a.nextDeadline() <= now + 200) {
        const at = a.nextDeadline();
        a.tick(at);
        cluster.pump(at);
      }
      const names = cluster.sent
        .filter((s) => s.packet.messages.some((m) => m.type === 'alive'))
        .map((s) => s.packet.to.name);
      return new Set(names.filter((name) => name !== 'n9'));
    };
    assert.deepEqual(receivers(1), new Set(['n2']));
    assert.deepEqual(receivers(31_000), new Set());
  });

  test('delegate broadcasts fill what is left of a packet as user messages', () => {
    const core = new GossipCore({
      name: 'n1',
      addr: ip(1),
      port: 7946,
      random: seededRandom(1),
      now: 0,
      delegate: { getBroadcasts: (overhead, limit) => (limit > overhead + 3 ? [bytes('ev1')] : []) },
    });
    core.handlePacket(from(2), [alive(2, 1)], 0);
    core.takeOutput();
    core.tick(core.nextDeadline());
    core.tick(core.nextDeadline());
    const packets = core.takeOutput().packets;
    const types = packets.flatMap((p) => p.messages.map((m) => m.type));
    assert.ok(types.includes('user'), types.join());
    assert.ok(types.includes('alive'), types.join());
  });
});

describe('push/pull and join', () => {
  const row = (i: number, incarnation: number, state: number, meta = EMPTY): PushNodeState => ({
    Name: `n${i}`,
    Addr: ip(i),
    Port: 7946,
    Meta: meta,
    Incarnation: incarnation,
    State: state,
    Vsn: DEFAULT_VSN,
  });

  test('join asks for a push/pull with Join set, carrying ourselves alive', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    const [id] = a.join([{ name: '', addr: ip(2), port: 7946 }], 0);
    const [request] = a.takeOutput().streams;
    assert.equal(request?.kind, 'pushPull');
    assert.equal(request?.id, id);
    assert.equal(request?.kind === 'pushPull' && request.join, true);
    assert.deepEqual(
      request?.kind === 'pushPull' && request.state.nodes.map((n) => [n.Name, n.State, n.Incarnation]),
      [['n1', 0, 1]],
    );
  });

  test('the answering side sends its state as it was, then merges by memberlist’s rules', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    a.handlePacket(from(2), [alive(2, 1), alive(3, 1), alive(4, 1)], 0);
    cluster.pump(0);
    cluster.events.get('n1')!.length = 0;
    const remote: PushPull = {
      join: true,
      nodes: [
        row(5, 1, NodeStateCode.alive, bytes('m')),
        row(2, 1, NodeStateCode.dead),
        row(3, 1, NodeStateCode.left),
        row(4, 1, NodeStateCode.suspect),
        row(1, 4, NodeStateCode.suspect),
      ],
      userState: bytes('serf'),
    };
    const { reply, error } = a.handlePushPullRequest(remote, 100);
    assert.equal(error, null);
    assert.equal(reply.join, true);
    assert.deepEqual(reply.nodes.map((n) => n.Name).sort(), ['n1', 'n2', 'n3', 'n4']);
    assert.ok(
      reply.nodes.every((n) => n.State === NodeStateCode.alive),
      'the reply predates the merge',
    );
    assert.equal(a.member('n5')?.state, 'alive');
    assert.equal(a.member('n2')?.state, 'suspect', 'a remote death is only a suspicion here');
    assert.equal(a.member('n3')?.state, 'left');
    assert.equal(a.member('n4')?.state, 'suspect');
    assert.equal(a.localMember().incarnation, 5, 'a suspicion of us in the remote state is refuted');
    cluster.pump(100);
    const types = cluster.events.get('n1')!.map((e) => e.type);
    assert.deepEqual(types, ['join', 'leave', 'remoteState']);
  });

  test('the joining side merges the answer; incompatible protocol versions are refused', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    const [id] = a.join([{ name: '', addr: ip(2), port: 7946 }], 0);
    a.takeOutput();
    const answer: PushPull = { join: true, nodes: [row(2, 3, 0), row(3, 1, 0)], userState: EMPTY };
    assert.equal(a.handlePushPullResponse(id!, answer, 10), null);
    assert.deepEqual(
      a
        .members()
        .map((m) => m.name)
        .sort(),
      ['n1', 'n2', 'n3'],
    );
    assert.equal(a.handlePushPullResponse(id!, answer, 10), 'no such push/pull');
    const [id2] = a.join([{ name: '', addr: ip(6), port: 7946 }], 20);
    const old: PushPull = {
      join: true,
      nodes: [{ ...row(6, 1, 0), Vsn: [1, 1, 1, 0, 0, 0] }],
      userState: EMPTY,
    };
    assert.match(a.handlePushPullResponse(id2!, old, 30) ?? '', /incompatible/);
    assert.equal(a.member('n6'), undefined);
  });

  test('periodic push/pull goes to one live member, no more often than the scaled interval', () => {
    const cluster = new Cluster();
    for (let i = 1; i <= 4; i++) cluster.add(i);
    cluster.connectAll();
    cluster.run(100_000);
    const times = cluster.streams
      .filter((s) => s.from === 'n1' && s.request.kind === 'pushPull')
      .map((s) => {
        assert.equal(s.request.kind === 'pushPull' && s.request.join, false);
        assert.notEqual(s.request.to.name, 'n1');
        return s.at;
      });
    assert.equal(times.length, 3, `push/pulls at ${times.join(', ')}`);
    assert.ok(times[0]! < 30_000, `first at ${times[0]}`);
    assert.deepEqual(
      times.slice(1).map((t, i) => t - times[i]!),
      [30_000, 30_000],
    );
  });
});

describe('leave', () => {
  test('leaving gossips dead-from-self until it has been sent often enough; others see a leave', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    const b = cluster.add(2);
    cluster.connectAll();
    assert.equal(a.leave(10), true);
    assert.equal(a.leave(10), false, 'only once');
    assert.equal(a.localMember().state, 'left');
    assert.deepEqual(a.broadcasts.view()[0]?.broadcast.message, dead('n1', 1, 'n1'));
    // An alive about ourselves arriving now must not bring us back.
    a.handlePacket(from(2), [alive(1, 9)], 20);
    assert.equal(a.localMember().state, 'left');
    let now = 20;
    for (let i = 0; i < 20 && cluster.eventsOf('n1', 'broadcastFinished').length === 0; i++) {
      now = Math.max(now, a.nextDeadline());
      a.tick(now);
      cluster.pump(now);
    }
    assert.deepEqual(cluster.eventsOf('n1', 'broadcastFinished'), [
      { type: 'broadcastFinished', tag: 'leave' },
    ]);
    assert.equal(b.member('n1')?.state, 'left');
    assert.equal(cluster.eventsOf('n2', 'leave').length, 1);
    assert.equal(cluster.eventsOf('n2', 'fail').length, 0);
  });

  test('leaving alone needs no wait', () => {
    const a = new Cluster().add(1);
    assert.equal(a.leave(0), false);
  });

  test('updateNode re-advertises new meta at a new incarnation', () => {
    const cluster = new Cluster();
    const a = cluster.add(1);
    const b = cluster.add(2);
    cluster.connectAll();
    assert.equal(a.updateNode(bytes('role=web'), 5), true);
    assert.equal(a.localMember().incarnation, 2);
    a.tick(a.nextDeadline());
    a.tick(a.nextDeadline());
    cluster.pump(1000);
    assert.deepEqual(b.member('n1')?.meta, bytes('role=web'));
    assert.equal(cluster.eventsOf('n2', 'update').length, 1);
  });
});

describe('determinism', () => {
  test('the same seed and inputs give the same outputs', () => {
    const run = () => {
      const cluster = new Cluster();
      for (let i = 1; i <= 6; i++) cluster.add(i);
      cluster.connectAll();
      const trace: string[] = [];
      let now = 0;
      cluster.drop = (_s, p) => p.to.name === 'n4';
      for (let step = 0; step < 300; step++) {
        const [name, core] = [...cluster.cores].reduce((x, y) =>
          y[1].nextDeadline() < x[1].nextDeadline() ? y : x,
        );
        now = core.nextDeadline();
        core.tick(now);
        cluster.pump(now);
        trace.push(`${now.toFixed(3)} ${name}`);
      }
      for (const core of cluster.cores.values()) {
        trace.push(JSON.stringify(core.allMembers().map((m) => [m.name, m.state, m.incarnation])));
      }
      return trace;
    };
    const first = run();
    assert.deepEqual(run(), first);
    assert.ok(
      first.some((line) => line.includes('"n4","dead"') || line.includes('"n4","suspect"')),
      'the unreachable node was noticed',
    );
  });
});
