/**
 * The pool's work not yet sent to a worker, in order: single jobs, and map calls that cut their
 * next chunk when a worker can take it. Taking the head is O(1) (a read position instead of
 * Array.shift, which copies the rest), and the queue counts the map calls it holds, so the
 * scheduler knows at once whether anything in it could use a worker that is busy (only a map
 * chunk can be sent ahead) and need not walk thousands of queued calls to find out.
 */
import type { MapGroup } from "./map-group.js";
import type { Job } from "./worker-slot.js";

/** A queued map call: it makes its next chunk's job when a worker can take it. */
export interface QueuedMap { source: MapGroup; make: () => Job; abort: (e: Error) => void }

export type QueueEntry = Job | QueuedMap;

export function isQueuedMap(e: QueueEntry): e is QueuedMap {
  return "source" in e;
}

export class JobQueue implements Iterable<QueueEntry> {
  private items: (QueueEntry | undefined)[] = [];
  private head = 0;
  private maps = 0;

  get length(): number { return this.items.length - this.head; }

  /** How many map calls are queued. */
  get mapCount(): number { return this.maps; }

  /** The entry at position i (0 is the head). */
  at(i: number): QueueEntry {
    return this.items[this.head + i] as QueueEntry;
  }

  push(e: QueueEntry): void {
    this.count(e, 1);
    this.items.push(e);
  }

  /** Puts entries at the front, in the given order. */
  unshift(...es: QueueEntry[]): void {
    for (const e of es) this.count(e, 1);
    if (es.length <= this.head) {
      this.head -= es.length;
      for (let k = 0; k < es.length; k++) this.items[this.head + k] = es[k];
    } else {
      this.items = [...es, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }

  removeAt(i: number): void {
    const e = this.at(i);
    this.count(e, -1);
    if (i === 0) {
      this.items[this.head++] = undefined;
      if (this.head === this.items.length) { this.items = []; this.head = 0; }
      // drop the consumed front once it is most of the array (each entry is copied at most once more)
      else if (this.head >= 1024 && this.head * 2 >= this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    } else {
      this.items.splice(this.head + i, 1);
    }
  }

  indexOf(e: QueueEntry): number {
    const i = this.items.indexOf(e, this.head);
    return i < 0 ? -1 : i - this.head;
  }

  /** Empties the queue; returns what it held, in order. */
  takeAll(): QueueEntry[] {
    const all = this.items.slice(this.head) as QueueEntry[];
    this.items = [];
    this.head = 0;
    this.maps = 0;
    return all;
  }

  *[Symbol.iterator](): Iterator<QueueEntry> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as QueueEntry;
  }

  private count(e: QueueEntry, d: 1 | -1): void {
    if (isQueuedMap(e)) this.maps += d;
  }
}
