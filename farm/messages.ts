/**
 * Messages between a Pool (parent) and one of its workers, whatever the transport
 * (child process IPC with advanced serialization, or a worker thread's port).
 */
import type { SerializedError } from "./errors.js";
import type { CodeMessage } from "./task-code.js";

/** What a job asks the worker to do with the task function. */
export type JobBody =
  /** fn(...args); the value is the result. */
  | { kind: "call"; args: unknown[] }
  /** fn(item) (or fn(...item) when star) for each item; items may be a Float64Array (numeric fast path). */
  | { kind: "map"; items: unknown[] | Float64Array; star: boolean; start: number }
  /** Set globals: no function involved. */
  | { kind: "push"; bindings: Record<string, unknown> };

export interface JobMessage {
  t: "job";
  id: number;
  /** Absent for push jobs. The bundle is included only if the parent thinks the worker lacks it. */
  code?: CodeMessage;
  body: JobBody;
  /** Say "started" when the job begins (the parent then knows the worker is not stuck in leftover code). */
  ack?: boolean;
}

export type ParentToWorker =
  | JobMessage
  /** Drop queued (not yet started) jobs; stop the running one if its id is `running`. */
  | { t: "interrupt"; running: number | null; cancel: number[] }
  /** Drop queued jobs, or stop the running one only if the worker is free (it is awaiting). No byte on fd 3. */
  | { t: "cancel"; ids: number[] }
  /** Give back jobs that have not started (to run them on an idle worker); running or finished ones are left alone. */
  | { t: "withdraw"; ids: number[] }
  | { t: "hreply"; cid: number; ok: true; value: unknown }
  | { t: "hreply"; cid: number; ok: false; error: SerializedError }
  | { t: "stats" }
  /**
   * The worker should be free but did not start a job: code left over from a stopped task (after
   * its await) is probably running. Sent with a byte on fd 3 like an interrupt, so that such code
   * is terminated if the worker's main thread does not take this message soon.
   */
  | { t: "unstick" }
  /**
   * Sent after the worker said it could not read a message: a process worker's channel keeps the
   * messages that came with the unreadable one until more bytes arrive. Nothing to do otherwise.
   */
  | { t: "nudge" }
  | { t: "exit" };

export type JobOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: SerializedError; /** absolute item index that threw */ index?: number };

export type WorkerToParent =
  | { t: "ready"; pid: number; threadId: number }
  | ({ t: "done"; id: number; ms: number; rss: number } & JobOutcome)
  /**
   * The job was stopped by an interrupt (its result, if any ever comes, is dropped); `index`: the
   * map item it was running (absolute), if any.
   */
  | { t: "interrupted"; id: number; ms: number; index?: number }
  /**
   * The worker could not read the `seq`-th message the parent sent it (counting from 1): it
   * failed to deserialize (too deeply nested for the worker's stack). Its job is failed.
   */
  | { t: "unreadable"; seq: number; error: string }
  /** The job had not started when it was cancelled. */
  | { t: "cancelled"; id: number }
  /** Answer to `withdraw`: the job had not started and was dropped here. */
  | { t: "withdrawn"; id: number }
  /** Answer to a job sent with `ack`, or to `withdraw` when the job had already begun: it began. */
  | { t: "started"; id: number }
  /** Acknowledges an interrupt message: the worker's main thread is responsive. */
  | { t: "iack" }
  /** A thread worker wrote output into its shared ring (farm/output-ring.ts) while the parent was not reading. */
  | { t: "output" }
  /** Lines written by the task (console.* or process.stdout/stderr.write). */
  | { t: "out"; stream: "stdout" | "stderr"; text: string; job: number | null; index: number | null }
  | { t: "hcall"; cid: number; kind: string; hid: number; method: string; args: unknown[] }
  | { t: "stats"; rss: number; heapUsed: number };
