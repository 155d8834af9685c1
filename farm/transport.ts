/**
 * How the pool talks to one worker. A Pool only sees this interface, so workers can live in a
 * child process, a thread, or (later) on another host behind a message broker.
 */
import type { ParentToWorker, WorkerToParent } from "./messages.js";

export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** Why the worker ended, when the transport knows (e.g. a thread's uncaught error). */
  error?: string;
}

export interface CurrentItem { job: number; index: number; exact: boolean }

export interface SpawnOptions {
  workerId: number;
  env?: Record<string, string | undefined>;
  execArgv?: string[];
  /** Memory limits for thread workers (process workers take --max-old-space-size in execArgv). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

export interface WorkerTransport {
  readonly kind: "process" | "thread";
  /** OS process id (for a thread: the parent's pid). */
  readonly pid: number;
  /** Thread id inside its process (0 for a process worker's main thread). */
  readonly threadId: number;
  /** Whether values may carry SharedArrayBuffers and transferables (same process). */
  readonly sharedMemory: boolean;
  send(msg: ParentToWorker, transfer?: ArrayBuffer[]): void;
  /**
   * Out-of-band part of an interrupt: makes sure synchronous code stops even if the worker's main
   * thread cannot read messages. Called right after sending the `interrupt` message.
   */
  forceInterrupt(): void;
  /** Whether the worker keeps the parent's event loop alive (a pool unrefs idle workers). */
  setRef?(on: boolean): void;
  /** Ends the worker at once (SIGKILL / thread termination). */
  kill(): void;
  onMessage(cb: (msg: WorkerToParent) => void): void;
  /**
   * Raw writes that bypassed the captured console (native code, fs.writeSync(1, ...)), in chunks,
   * with the job the worker ran when it wrote them if the transport knows (null: between jobs;
   * undefined: not known).
   */
  onRawOutput(cb: (stream: "stdout" | "stderr", text: string, job?: number | null) => void): void;
  /**
   * The map item the worker runs now, or ran when it ended (job id and absolute item index), as
   * far as the transport knows: `exact` false when it is only known that the worker had reached
   * that item (it may have gone on since). Null when it runs no map chunk of several items or
   * nothing is known. Optional: without it a crashed chunk is blamed on its first item.
   */
  currentItem?(): CurrentItem | null;
  /** Fires once, when the worker is gone for whatever reason. */
  onExit(cb: (exit: WorkerExit) => void): void;
}

export type TransportFactory = (opts: SpawnOptions) => WorkerTransport;
