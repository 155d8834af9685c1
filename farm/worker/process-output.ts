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
import { createRing, notifyReader } from "../output-ring.js";
import { makeStdioBlocking } from "./fd-writes.js";
import { flushRing, forwarderStarted, OUTPUT_FD } from "./output-forwarder.js";
import { ProcessSink } from "./output-sinks.js";

export class ProcessOutput {
  readonly ring = createRing();
  readonly sink: ProcessSink;
  private helperGone = false;
  private helperStarted = false;

  constructor() {
    makeStdioBlocking();
    const notify = notifyReader(this.ring);
    this.sink = new ProcessSink(this.ring, () => {
      this.helperStarted ||= forwarderStarted(this.ring);
      if (this.helperGone || !this.helperStarted) this.flush();
      else notify();
    });
    flushBeforeDeath(() => this.flush());
  }

  /** The helper thread is gone (it failed): this thread forwards its output itself from now on. */
  helperExited(): void {
    this.helperGone = true;
    this.flush();
  }

  private flush(): void {
    flushRing(this.ring, OUTPUT_FD);
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
