/**
 * The parent's end of a thread worker's captured output: the shared ring it writes into (passed
 * in workerData), read a millisecond after the worker says there is output (letting a flood's
 * lines gather, so that it wakes this thread once per batch rather than once per line), before
 * each of its messages (a task's lines come before its result), and one last time when the
 * thread is gone.
 */
import type { WorkerToParent } from "./messages.js";
import { OutputReceiver, type RawOutputSink, type RingOrPipeSource } from "./output-receiver.js";
import { createRing, RingReader } from "./output-ring.js";

/** How long output may gather in the ring once the worker said there is some. */
const GATHER_MS = 1;

/** What a thread worker gets in workerData.tspoolWorker. */
export interface ThreadWorkerData {
  workerId: number;
  outputRing: SharedArrayBuffer;
  /** Where the thread publishes the map item it runs (see current-item.ts). */
  currentItem: Int32Array;
}

export class ThreadOutput {
  readonly ring = createRing();
  private readonly reader = new RingReader(this.ring);
  private readonly receiver: OutputReceiver;
  private readonly source: RingOrPipeSource;
  private gathering: NodeJS.Timeout | null = null;

  /**
   * `deliver` gets the worker's messages, with its captured output as "out" messages in between;
   * `raw` its writes to fd 1 and 2 that it caught (worker/raw-writes.ts).
   */
  constructor(deliver: (m: WorkerToParent) => void, raw: RawOutputSink) {
    this.receiver = new OutputReceiver(deliver, raw);
    this.source = this.receiver.addSource(["stdout", "stderr"], null);
  }

  /** A message from the worker (a wake-up saying there is output is used up here). */
  message(m: WorkerToParent): void {
    if (m.t === "output") {
      this.gathering ??= setTimeout(() => this.drain(), GATHER_MS);
      return;
    }
    this.drain();
    this.receiver.message(m);
  }

  /** The thread is gone: what it wrote is still in the ring. */
  finish(): void {
    this.drain();
    this.receiver.finish();
  }

  private drain(): void {
    if (this.gathering) { clearTimeout(this.gathering); this.gathering = null; }
    this.reader.take((bytes) => this.source.feed(bytes));
  }
}
