/** A one-consumer async queue used to expose results as an AsyncIterableIterator. */
import { Fifo } from "./fifo.js";

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  // both are FIFOs: a map pushes whole chunks of results at once and the consumer takes them one
  // by one, and a consumer may ask for many items before any arrives
  private items = new Fifo<T>();
  private waiters = new Fifo<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }>();
  private ended = false;
  private error: { e: unknown } | null = null;
  private settled = false;

  /**
   * onReturn: the consumer stopped early (break, return). onSettled: runs once, when the queue
   * ended, failed or was returned (the producer can let go of what it holds for the consumer).
   */
  constructor(private readonly onReturn: () => void = () => {}, private readonly onSettled: () => void = () => {}) {}

  push(item: T): void {
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    if (this.ended || this.error) return;
    this.ended = true;
    for (const w of this.waiters.drain()) w.resolve({ value: undefined, done: true });
    this.settle();
  }

  fail(e: unknown): void {
    if (this.ended || this.error) return;
    this.error = { e };
    for (const w of this.waiters.drain()) w.reject(e);
    this.settle();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.error) return Promise.reject(this.error.e);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.ended) {
      this.ended = true;
      this.items.clear();
      for (const w of this.waiters.drain()) w.resolve({ value: undefined, done: true });
      this.onReturn();
      this.settle();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this { return this; }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettled();
  }
}
