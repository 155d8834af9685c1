/**
 * A first-in first-out buffer with O(1) push and shift. `Array.prototype.shift` moves every
 * remaining element, and V8 cannot avoid that for large arrays, so draining a buffer that received
 * a whole chunk of results (hundreds of thousands of items) one item at a time was quadratic.
 * Here a read position advances instead, and the consumed prefix is dropped once it is the
 * larger part of the array (each element is copied at most once more: amortised O(1)).
 */
export class Fifo<T> implements Iterable<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number { return this.items.length - this.head; }

  push(item: T): void { this.items.push(item); }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let it be collected
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The item at position i (0 is the oldest). */
  at(i: number): T {
    return this.items[this.head + i] as T;
  }

  /** The position of an item (0 is the oldest), or -1. */
  indexOf(item: T): number {
    const i = this.items.indexOf(item, this.head);
    return i < 0 ? -1 : i - this.head;
  }

  /** Puts items at the front, in the given order (into the consumed prefix when it has room). */
  unshift(...items: T[]): void {
    if (items.length <= this.head) {
      this.head -= items.length;
      for (let k = 0; k < items.length; k++) this.items[this.head + k] = items[k];
    } else {
      this.items = [...items, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }

  /** Removes the item at position i (O(1) for the oldest, like shift). */
  removeAt(i: number): void {
    if (i === 0) this.shift();
    else this.items.splice(this.head + i, 1);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.clear();
    return all;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
