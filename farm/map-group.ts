/**
 * One map-like call (map, starmap, imap, imapUnordered) in flight: cuts its items into chunks on
 * demand, times them to size the next ones, and hands each chunk's results to its sink.
 */
import { asNumeric, guidedChunksize, initialChunksize, initialNumericChunksize } from "./chunking.js";

export interface MapSink {
  /** Results of items [start, start + values.length). */
  chunk(start: number, values: ArrayLike<unknown>): void;
  /** All items are done. */
  done(): void;
}

export class MapGroup {
  readonly n: number;
  private readonly numeric: Float64Array | null;
  private readonly items: readonly unknown[] | null;
  private nextIndex = 0;
  private chunksize: number;
  private readonly initial: number;
  private finishedItems = 0;
  private measuredMs = 0;
  private measuredItems = 0;
  failed = false;

  constructor(
    items: readonly unknown[] | ArrayLike<number>,
    private readonly workers: number,
    readonly star: boolean,
    private readonly fixedChunksize: number | undefined,
    private readonly sink: MapSink,
  ) {
    this.n = items.length;
    this.numeric = star ? null : asNumeric(items);
    this.items = this.numeric ? null : (items as readonly unknown[]);
    this.initial = this.numeric ? initialNumericChunksize(this.n, workers) : initialChunksize(this.n, workers);
    this.chunksize = fixedChunksize ?? this.initial;
    if (this.n === 0) queueMicrotask(() => sink.done());
  }

  /** Items handed out so far, and the current chunk size (for status). */
  get taken(): number { return this.nextIndex; }
  get chunk(): number { return this.chunksize; }

  get hasMore(): boolean { return !this.failed && this.nextIndex < this.n; }

  /** Mean time per item measured so far, or null before the first chunk finished. */
  get msPerItem(): number | null {
    return this.measuredItems ? this.measuredMs / this.measuredItems : null;
  }

  take(): { start: number; items: unknown[] | Float64Array } {
    const start = this.nextIndex;
    const per = this.msPerItem;
    if (this.fixedChunksize === undefined && per !== null) this.chunksize = guidedChunksize(per, this.initial, this.n - start, this.workers);
    const end = Math.min(this.n, start + this.chunksize);
    this.nextIndex = end;
    return { start, items: this.numeric ? this.numeric.slice(start, end) : this.items!.slice(start, end) };
  }

  /** Records a finished chunk: its timing sizes the next chunks; its values go to the sink. */
  chunkDone(start: number, values: ArrayLike<unknown>, ms: number): void {
    if (this.failed) return;
    this.measuredMs += ms;
    this.measuredItems += values.length;
    this.sink.chunk(start, values);
    this.finishedItems += values.length;
    if (this.finishedItems >= this.n) this.sink.done();
  }
}
