/**
 * A fixed table of (holder token, value) pairs in a primitive's shared memory: what each side
 * (the main program, a thread worker) has of it, so that the realm that learns a thread ended
 * can undo what that thread left (see holders.ts). A semaphore keeps the permits each side holds
 * here, a Barrier the parties each side has waiting.
 *
 * Only the side itself changes its value (or, once it ended, the realm cleaning up after it), so
 * values need no lock; claiming a pair races on its token cell with compare-exchange. A side that
 * finds the table full is not tracked: that is reported once per kind of primitive.
 */

const warned = new Set<string>();

function warnFull(what: string, size: number): void {
  if (warned.has(what)) return;
  warned.add(what);
  process.emitWarning(
    `tspool: more than ${size} threads (or the main program and threads) use one ${what} at once; ` +
      `the ones above ${size} are not tracked, so what they hold is not given back if their worker ends`,
    "TspoolSyncWarning",
  );
}

export class SideTable {
  /** Where this realm's own pair is (-1 = not looked up yet); only this realm frees it. */
  #mine = -1;

  /**
   * @param cells the primitive's shared cells
   * @param start index of the first pair's token cell
   * @param size number of pairs
   * @param what the primitive's name, for the warning when the table is full
   * @param self this realm's own holder token (its pair is looked up once)
   */
  constructor(
    private readonly cells: Int32Array,
    private readonly start: number,
    readonly size: number,
    private readonly what: string,
    private readonly self: number,
  ) {}

  /** The index of `holder`'s value cell, -1 when it has none. */
  find(holder: number): number {
    if (holder === this.self && this.#mine >= 0) return this.#mine;
    const cells = this.cells;
    for (let i = this.start; i < this.start + 2 * this.size; i += 2) {
      if (Atomics.load(cells, i) === holder) return this.#remember(holder, i + 1);
    }
    return -1;
  }

  /** The index of `holder`'s value cell, claiming a free pair (value 0) if it has none; -1 when the table is full. */
  claim(holder: number): number {
    const found = this.find(holder);
    if (found >= 0) return found;
    const cells = this.cells;
    for (let i = this.start; i < this.start + 2 * this.size; i += 2) {
      if (Atomics.compareExchange(cells, i, 0, holder) === 0) return this.#remember(holder, i + 1);
    }
    warnFull(this.what, this.size);
    return -1;
  }

  /** Frees a pair for another side (called by the side itself, or for a side that ended). */
  free(valueCell: number): void {
    if (valueCell === this.#mine) this.#mine = -1;
    Atomics.store(this.cells, valueCell, 0);
    Atomics.store(this.cells, valueCell - 1, 0);
  }

  #remember(holder: number, valueCell: number): number {
    if (holder === this.self) this.#mine = valueCell;
    return valueCell;
  }
}
