/**
 * A first-in first-out buffer with O(1) push and shift. `Array.prototype.shift` moves every
 * remaining element, and V8 cannot avoid that for large arrays, so draining a buffer that received
 * a whole chunk of results (hundreds of thousands of items) one item at a time was quadratic.
 * Here a read position advances instead, and the consumed prefix is dropped once it is the
 * larger part of the array (each element is copied at most once more: amortised O(1)).
 */
export class Fifo<T> {
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
