/**
 * The pool's work not yet sent to a worker, in order: single jobs, and map calls that cut their
 * next chunk when a worker can take it. Taking the head is O(1) (a Fifo, not Array.shift, which
 * copies the rest), and the queue counts the map calls it holds, so the
 * scheduler knows at once whether anything in it could use a worker that is busy (only a map
 * chunk can be sent ahead) and need not walk thousands of queued calls to find out.
 */
import { Fifo } from "./fifo.js";
import type { MapGroup } from "./map-group.js";
import type { Job } from "./worker-slot.js";

/** A queued map call: it makes its next chunk's job when a worker can take it. */
export interface QueuedMap { source: MapGroup; make: () => Job; abort: (e: Error) => void }

export type QueueEntry = Job | QueuedMap;

export function isQueuedMap(e: QueueEntry): e is QueuedMap {
  return "source" in e;
}

export class JobQueue implements Iterable<QueueEntry> {
  private readonly entries = new Fifo<QueueEntry>();
  private maps = 0;

  get length(): number { return this.entries.length; }

  /** How many map calls are queued. */
  get mapCount(): number { return this.maps; }

  /** The entry at position i (0 is the head). */
  at(i: number): QueueEntry {
    return this.entries.at(i);
  }

  push(e: QueueEntry): void {
    this.count(e, 1);
    this.entries.push(e);
  }

  /** Puts entries at the front, in the given order. */
  unshift(...es: QueueEntry[]): void {
    for (const e of es) this.count(e, 1);
    this.entries.unshift(...es);
  }

  removeAt(i: number): void {
    this.count(this.entries.at(i), -1);
    this.entries.removeAt(i);
  }

  indexOf(e: QueueEntry): number {
    return this.entries.indexOf(e);
  }

  /** Empties the queue; returns what it held, in order. */
  takeAll(): QueueEntry[] {
    this.maps = 0;
    return this.entries.drain();
  }

  [Symbol.iterator](): Iterator<QueueEntry> {
    return this.entries[Symbol.iterator]();
  }

  private count(e: QueueEntry, d: 1 | -1): void {
    if (isQueuedMap(e)) this.maps += d;
  }
}
