/**
 * A byte pipe in shared memory, for a worker's captured output. The worker's main thread writes
 * frames (see output-frames.ts) into it; the reader is the parent (thread workers, which share
 * its memory) or the worker's helper thread, which passes the bytes on to the worker's output
 * pipe (process workers, see worker/output-forwarder.ts). A write is a copy into memory the reader
 * holds too, done before the write call returns: what the main thread wrote stays readable
 * when it is stuck in synchronous code, terminated, or its thread dies. The writer wakes the
 * reader only when the reader has caught up, so a flood of lines costs few wake-ups and is
 * read in large batches; when the ring is full, the writer waits for the reader.
 *
 * Each frame is published whole (the write position moves once it is all there), so a writer
 * stopped in the middle of a write (an interrupt terminating its code) leaves nothing half done.
 */

const WRITTEN = 0; // bytes written so far (wrapping Int32)
const READ = 1; // bytes read so far (wrapping Int32)
const WAKE_PENDING = 2; // 1 while the reader has been woken and has not looked yet
/** Control words 3 to 7 are free for a reader's own use (see worker/output-forwarder.ts). */
export const RING_READER_SLOTS = 3;
const CONTROL_BYTES = 32;
/** How long a writer waits on a full ring before looking again (it is woken as soon as the reader reads). */
const FULL_WAIT_MS = 100;

/** Bytes of output a ring holds (a power of two: positions wrap with a mask). */
const RING_CAPACITY = 1 << 20;
/** The largest frame a ring takes (longer text is sent as several frames). */
export const RING_MAX_FRAME = RING_CAPACITY / 4;

export function createRing(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + RING_CAPACITY);
}

/** The ring's control words (for a reader that waits on them with Atomics). */
export function ringControl(sab: SharedArrayBuffer): Int32Array {
  return new Int32Array(sab, 0, CONTROL_BYTES / 4);
}

export class RingWriter {
  private readonly control: Int32Array;
  private readonly data: Buffer;
  private readonly mask: number;

  /** `wake` tells the reader there is something to read. */
  constructor(sab: SharedArrayBuffer, private readonly wake: () => void) {
    this.control = ringControl(sab);
    this.data = Buffer.from(sab, CONTROL_BYTES);
    this.mask = this.data.length - 1;
  }

  /** Writes one frame (at most RING_MAX_FRAME bytes), waiting for room if the reader is behind. */
  write(frame: string): void {
    const c = this.control;
    const capacity = this.data.length;
    let bytes: Buffer | null = null;
    for (;;) {
      const written = Atomics.load(c, WRITTEN);
      const free = capacity - ((written - Atomics.load(c, READ)) | 0);
      const at = written & this.mask;
      // the common case: encoded straight into the ring (UTF-8 takes at most 3 bytes per UTF-16 unit)
      if (bytes === null && frame.length * 3 <= Math.min(free, capacity - at)) {
        const n = this.data.write(frame, at);
        this.publish((written + n) | 0);
        return;
      }
      bytes ??= Buffer.from(frame);
      if (bytes.length <= free) {
        const first = Math.min(bytes.length, capacity - at);
        this.data.set(bytes.subarray(0, first), at);
        if (first < bytes.length) this.data.set(bytes.subarray(first), 0);
        this.publish((written + bytes.length) | 0);
        return;
      }
      this.signal();
      Atomics.wait(c, READ, Atomics.load(c, READ), FULL_WAIT_MS);
    }
  }

  /** True when the reader has taken everything written. */
  empty(): boolean {
    return Atomics.load(this.control, WRITTEN) === Atomics.load(this.control, READ);
  }

  private publish(written: number): void {
    Atomics.store(this.control, WRITTEN, written);
    this.signal();
  }

  private signal(): void {
    if (Atomics.exchange(this.control, WAKE_PENDING, 1) === 0) this.wake();
  }
}

export class RingReader {
  readonly control: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.control = ringControl(sab);
    this.data = new Uint8Array(sab, CONTROL_BYTES);
    this.mask = this.data.length - 1;
  }

  /**
   * Hands everything written so far to `consume` (one or two views into the ring, valid only
   * during the call), then frees it for the writer. Returns false if there was nothing.
   */
  take(consume: (bytes: Uint8Array) => void): boolean {
    const c = this.control;
    // cleared before looking, so that a write after this look wakes the reader again
    Atomics.store(c, WAKE_PENDING, 0);
    const read = Atomics.load(c, READ);
    const written = Atomics.load(c, WRITTEN);
    const used = (written - read) | 0;
    if (used === 0) return false;
    const at = read & this.mask;
    const first = Math.min(used, this.data.length - at);
    consume(this.data.subarray(at, at + first));
    if (first < used) consume(this.data.subarray(0, used - first));
    Atomics.store(c, READ, written);
    Atomics.notify(c, READ);
    return true;
  }

  /** Waits (without blocking the thread's event loop) until the writer says there is something new. */
  async waitForWrite(): Promise<void> {
    const w = Atomics.waitAsync(this.control, WAKE_PENDING, 0);
    if (w.async) await w.value;
  }
}

/** The wake-up a writer gives a reader that waits with `waitForWrite` (in another thread of the same process). */
export function notifyReader(sab: SharedArrayBuffer): () => void {
  const control = ringControl(sab);
  return () => { Atomics.notify(control, WAKE_PENDING); };
}
