/** Events a Pool emits (pool.on(name, listener)), for live per-worker output and progress. */

export interface OutputEvent {
  workerId: number;
  pid: number;
  threadId: number;
  stream: "stdout" | "stderr";
  /** One or more whole lines, each ending with "\n". */
  text: string;
  lines: string[];
  /** The pool's job id running when the lines were written (null between jobs). */
  job: number | null;
  /** The item index (map/imap/starmap) being processed, if known. */
  index: number | null;
  /** True for writes that bypassed the captured streams (native code, fs.writeSync on fd 1/2). */
  raw: boolean;
  /** The `tag` option of the call whose job wrote the lines (undefined when none, or between jobs). */
  tag?: unknown;
}

export type JobKind = "apply" | "map" | "run" | "push" | "init";

/**
 * A job's life on a worker. "start" says it began running there: a map chunk sent ahead to a busy
 * worker starts when the job before it ends (and one that moves to an idle worker before that
 * starts only there). Every "start" is followed by one "finish".
 */
export interface TaskEvent {
  phase: "start" | "finish";
  workerId: number;
  pid: number;
  job: number;
  kind: JobKind;
  /** Item range [from, to) for map chunks, null otherwise. */
  range: [number, number] | null;
  /** finish: time the worker spent on the job. */
  ms?: number;
  /** finish: "ok", "error", "interrupted", "cancelled", "crashed". */
  outcome?: "ok" | "error" | "interrupted" | "cancelled" | "crashed";
  /** The `tag` option of the call that made the job. */
  tag?: unknown;
}

export interface WorkerEvent {
  type: "online" | "exit";
  workerId: number;
  pid: number;
  threadId: number;
  exitCode?: number | null;
  signal?: string | null;
  /** exit: whether the pool asked for it (close, resize, recycling, terminate). */
  expected?: boolean;
  /** online: how many workers had this id before (0 for the first). */
  restarts?: number;
}

export interface PoolEvents {
  output: [OutputEvent];
  task: [TaskEvent];
  worker: [WorkerEvent];
}

export type WorkerState = "starting" | "idle" | "busy" | "stopping" | "exited";

export interface WorkerStatus {
  id: number;
  kind: "process" | "thread";
  pid: number;
  threadId: number;
  state: WorkerState;
  /** Jobs finished by this worker id since the pool started (a map chunk is one job). */
  tasksDone: number;
  itemsDone: number;
  /** Total time spent running jobs, in ms. */
  busyMs: number;
  /** Resident set size reported by the worker process (for threads: the whole process), bytes. */
  rss: number | null;
  /** Code bundles shipped in full to this worker id (a repeated call sends only the hash). */
  bundlesSent: number;
  /** How many times this id's worker was replaced. */
  restarts: number;
  uptimeMs: number;
  /**
   * The job it runs. `item`: the map item of a chunk of several items it was last seen on (a
   * process worker's may be up to a second old; see WorkerCrashedError.index), or null.
   */
  current: { job: number; kind: JobKind; range: [number, number] | null; runningMs: number; item: number | null } | null;
}

export interface PoolStatus {
  size: number;
  threads: boolean;
  closed: boolean;
  broken: string | null;
  queuedJobs: number;
  workers: WorkerStatus[];
}
