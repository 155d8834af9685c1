/**
 * The main thread's side of a process worker's captured output: the ring its frames go into,
 * forwarded to the output pipe by the helper thread (output-forwarder.ts), or by this thread
 * itself at each write while there is no helper (it starts after the worker is ready; it may
 * fail), and when the process is about to die (process.exit, process.abort, a signal the worker
 * sends itself), so nothing written before is left behind.
 *
 * What cannot be saved: output written in the last millisecond or so before the process is
 * killed from outside (SIGKILL by another process) or aborts on its own (out of memory, a native
 * crash), if the helper thread had not passed it on yet. No code of the worker runs on such an
 * end; what the helper passed on is safe in the pipe.
 */
import { readCurrentItem } from "../current-item.js";
import { frameHeader } from "../output-frames.js";
import { createRing, notifyReader } from "../output-ring.js";
import { makeStdioBlocking } from "./fd-writes.js";
import { flushRing, forwarderStarted, OUTPUT_FD, urgeForwarder } from "./output-forwarder.js";
import { ProcessSink } from "./output-sinks.js";

export class ProcessOutput {
  readonly ring = createRing();
  readonly sink: ProcessSink;
  private helperGone = false;
  private helperStarted = false;

  /** `itemWords`: where the runner publishes the map item it runs (written out when the process dies). */
  constructor(private readonly itemWords: Int32Array) {
    makeStdioBlocking();
    const notify = notifyReader(this.ring);
    this.sink = new ProcessSink(this.ring, () => {
      if (this.forwarding()) notify();
      else this.flush();
    });
    flushBeforeDeath(() => this.flush(true));
  }

  /** The helper thread is gone (it failed): this thread forwards its output itself from now on. */
  helperExited(): void {
    this.helperGone = true;
    this.flush();
  }

  /**
   * A message to the parent is about to go: the parent holds it until the output written before
   * it arrived, so output still in the ring is asked for now (see output-forwarder.ts).
   */
  beforeMessage(): void {
    if (!this.sink.ringEmpty() && this.forwarding()) urgeForwarder(this.ring);
  }

  private forwarding(): boolean {
    this.helperStarted ||= forwarderStarted(this.ring);
    return this.helperStarted && !this.helperGone;
  }

  /** Writes the ring out; when the process dies, the map item it was on goes last (an exact "x" frame). */
  private flush(dying = false): void {
    const item = dying ? readCurrentItem(this.itemWords) : null;
    flushRing(this.ring, OUTPUT_FD, item ? frameHeader("x", 0, item.job, item.index, 0) : undefined);
  }
}

function flushBeforeDeath(flush: () => void): void {
  process.on("exit", flush);
  const abort = process.abort.bind(process);
  process.abort = (() => { flush(); abort(); }) as typeof process.abort;
  const kill = process.kill.bind(process);
  process.kill = (pid: number, signal?: string | number) => {
    if (pid === process.pid || pid === 0 || pid === -process.pid) flush();
    return kill(pid, signal);
  };
}
