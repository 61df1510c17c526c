interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

/** Simulated time: a priority queue of callbacks by due time, first-scheduled first among equals. */
export class EventQueue {
  private heap: Scheduled[] = [];
  private seq = 0;
  now = 0;

  schedule(delay: number, run: () => void): void {
    this.push({ at: this.now + Math.max(0, delay), seq: this.seq++, run });
  }

  /** Runs events due up to `time` (or until `stop` says so after an event); returns false if stopped early. */
  runUntil(time: number, stop: () => boolean = () => false): boolean {
    while (this.heap.length > 0 && this.heap[0]!.at <= time) {
      const event = this.pop();
      this.now = event.at;
      event.run();
      if (stop()) return false;
    }
    this.now = Math.max(this.now, time);
    return true;
  }

  private push(event: Scheduled): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Scheduled {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

const before = (a: Scheduled, b: Scheduled) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
