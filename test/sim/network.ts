import type { Random } from '../../src/raft/core/prng.ts';
import type { NodeId } from '../../src/raft/core/types.ts';
import type { EventQueue } from './event-queue.ts';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Usual one-way latency range, in ms. */
  minDelay: number;
  maxDelay: number;
  /** Probability that a message takes up to `slowDelay` ms instead: reorders it behind later ones. */
  slowRate: number;
  slowDelay: number;
}

export const calmNetwork: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  minDelay: 1,
  maxDelay: 3,
  slowRate: 0,
  slowDelay: 0,
};

/** Messages between servers: delayed, lost, duplicated and reordered as `faults` says; cut by partitions. */
export class Network<Packet extends { from: NodeId; to: NodeId }> {
  faults: NetworkFaults = calmNetwork;
  private readonly cut = new Set<string>();

  constructor(
    private readonly queue: EventQueue,
    private readonly random: Random,
    /** Hands a packet to its destination. */
    private readonly deliver: (packet: Packet) => void,
    /** Told about every packet that will never arrive. */
    private readonly lost: (packet: Packet) => void,
  ) {}

  send(packet: Packet): void {
    const { faults, random } = this;
    if (!this.connected(packet.from, packet.to) || random.float() < faults.dropRate) {
      this.lost(packet);
      return;
    }
    const copies = random.float() < faults.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) this.queue.schedule(this.delay(), () => this.arrive(packet));
  }

  connected(a: NodeId, b: NodeId): boolean {
    return !this.cut.has(`${a}>${b}`);
  }

  /** Cuts every link between servers in different groups (servers in no group keep their links). */
  partition(groups: NodeId[][]): void {
    for (const [i, group] of groups.entries()) {
      for (const other of groups.slice(i + 1)) {
        for (const a of group) {
          for (const b of other) {
            this.cut.add(`${a}>${b}`);
            this.cut.add(`${b}>${a}`);
          }
        }
      }
    }
  }

  /** Cuts one direction only: `from` can no longer reach `to`. */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  private arrive(packet: Packet): void {
    // A partition that starts while a message is in flight stops it too.
    if (this.connected(packet.from, packet.to)) this.deliver(packet);
    else this.lost(packet);
  }

  private delay(): number {
    const { faults, random } = this;
    if (random.float() < faults.slowRate) return random.float() * faults.slowDelay;
    return faults.minDelay + random.float() * (faults.maxDelay - faults.minDelay);
  }
}
