/**
 * The kernel process's side of the executor child (kernel/executor/main.ts): forks it, sends it
 * requests and matches its replies, passes its events on, forwards its raw stdout/stderr, delivers
 * interrupts (a byte on the child's fd 3 plus an IPC notice), and replaces it when it dies.
 *
 * The child runs in its own process group (detached), so a SIGINT sent to the kernel's group
 * (jupyter_client signals the group) reaches only the kernel, which turns it into an interrupt.
 * Being in its own group, it is not killed with the kernel's group either: it ends itself when its
 * fd 3 reaches its end, i.e. when the kernel process is gone (see interrupter.ts). The processes
 * its cells start join its group, and end with it (process-group.ts; the kernel kills what is left
 * of the group whenever the executor has ended).
 */
import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { join } from "node:path";
import type { Duplex, Writable } from "node:stream";
import { packageRoot } from "../package-info.js";
import { ExitNoticeReader, type ExitNotice } from "./exit-notice.js";
import type {
  CompleteReplyContent,
  ExecuteError,
  ExecuteOk,
  ExecutorToHost,
  HostToExecutor,
  InspectReplyContent,
  IsCompleteReplyContent,
  ReplyEvent,
  SequencedMessage,
} from "./protocol.js";

export interface ReplyContentOf {
  execute: ExecuteOk | ExecuteError;
  complete: CompleteReplyContent;
  inspect: InspectReplyContent;
  is_complete: IsCompleteReplyContent;
}
type RequestOf<K extends keyof ReplyContentOf> = Extract<HostToExecutor, { type: K }>;

/** Events that are not replies: stream, display, clear_output, input_request. */
export type ExecutorEvent = Exclude<ExecutorToHost, ReplyEvent | { type: "ready" }>;

export interface ExecutorHostOptions {
  /** The executor's compiled entry; default dist/kernel/executor/main.js (or $TSPOOL_EXECUTOR). */
  executorPath?: string;
  /** Working directory of the executor = the notebook's directory. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ExecutorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines the child wrote to stderr, to explain the death. */
  stderrTail: string;
  /** Set when JavaScript in the executor called process.exit() (see exit-notice.ts). */
  exitCalled?: ExitNotice;
}

/**
 * How long to wait, once the child has exited, for its IPC channel and its end of fd 3 to close,
 * so that its last messages and its notices (exit-notice.ts) have surely been read. They close
 * right away unless a process the cells started inherited them.
 */
const EXIT_NOTICE_WAIT_MS = 500;

/**
 * Each cell's type check leaves a program's worth of garbage; with V8's default heap growth the
 * executor's resident memory then climbs far above its live heap (measured: about 500 MB resident
 * for 75 MB live after 600 cells; with 30% growth steps about 300 MB, for a few percent more CPU).
 *
 * Cells' hot loops, and thread workers' (which share this process's V8 flags), compile with
 * synchronous on-stack replacement, for the reason given in farm/synchronous-osr.ts. Here it is a
 * command-line flag, not set at run time as in process workers: V8 tags code caches with its flags,
 * and TypeScript's code cache (typescript-preload.cjs) is read before any of the executor's code
 * runs, so a flag set later made every next kernel reject the cache the previous one saved.
 */
const EXECUTOR_V8_FLAGS = ["--heap-growing-percent=30", "--no-concurrent-osr"];

interface Pending {
  kind: keyof ReplyContentOf;
  resolve(content: unknown): void;
}

/** A request the executor was handling (its msg_id and kind). */
export interface RunningRequest {
  id: string;
  kind: keyof ReplyContentOf;
}

/**
 * How long a completion, inspection or is_complete request that an interrupt caught has to get its
 * answer before it gets an empty one: the interrupt stops JavaScript that blocks the executor within
 * about 0.2 s, but not a blocking call into native code (e.g. execSync), which could hold the
 * kernel's shell queue for as long as it lasts.
 */
const INTERRUPTED_QUERY_GRACE_MS = 1000;

/**
 * Emits:
 * - "event" (ExecutorEvent): stream/display/clear_output/input_request from the executor
 * - "output" (name: "stdout" | "stderr", text): raw writes to the child's own stdout/stderr
 * - "exit" (ExecutorExit, running: RunningRequest[]): the child died unexpectedly (a new one is being
 *   started) while handling these requests (each already answered: an error for an execute, an empty reply otherwise)
 */
export class ExecutorHost extends EventEmitter {
  private child: ChildProcess | null = null;
  private readyPromise: Promise<void> | null = null;
  private readonly pending = new Map<string, Pending>();
  private stopping = false;
  private stderrTail = "";
  private deathsBeforeReady = 0;
  private readonly executorPath: string;

  constructor(private readonly options: ExecutorHostOptions = {}) {
    super();
    this.executorPath =
      options.executorPath ?? process.env.TSPOOL_EXECUTOR ?? join(packageRoot, "dist", "kernel", "executor", "main.js");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the child if none is running; resolves when it has said "ready". */
  ready(): Promise<void> {
    if (!this.readyPromise) this.readyPromise = this.spawn();
    return this.readyPromise;
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.stderrTail = "";
      const child = fork(this.executorPath, [], {
        cwd: this.options.cwd ?? process.cwd(),
        env: this.options.env ?? process.env,
        stdio: ["pipe", "pipe", "pipe", "pipe", "ipc"],
        execArgv: EXECUTOR_V8_FLAGS,
        detached: true,
      });
      this.child = child;
      let isReady = false;
      child.stdin?.end();
      child.stdout?.setEncoding("utf8");
      child.stderr?.setEncoding("utf8");
      child.stdout?.on("data", (text: string) => this.emit("output", "stdout", text));
      child.stderr?.on("data", (text: string) => {
        this.stderrTail = (this.stderrTail + text).slice(-4000);
        this.emit("output", "stderr", text);
      });
      const kernelPipe = child.stdio[3] as Duplex | null;
      const notices = new ExitNoticeReader();
      /** The number of the last message received over IPC (see event-sender.ts). */
      let lastReceived = 0;
      kernelPipe?.on("error", () => {
        /* the child went away; its exit is handled below */
      });
      kernelPipe?.setEncoding("utf8").on("data", (text: string) => {
        notices.feed(text);
        notices.dropReceived(lastReceived);
      });
      const receive = (msg: SequencedMessage, pending: Map<string, Pending>) => {
        if (msg.type === "ready") {
          isReady = true;
          this.deathsBeforeReady = 0;
          resolve();
        } else if (msg.type === "reply") this.settle(msg, pending);
        else this.emit("event", msg);
      };
      /** Once the child has exited: the requests it was handling (later ones go to its successor). */
      let orphans: Map<string, Pending> | undefined;
      child.on("message", (msg: SequencedMessage) => {
        if (typeof msg.seq === "number") {
          lastReceived = msg.seq;
          notices.dropReceived(lastReceived);
        }
        receive(msg, orphans ?? this.pending);
      });
      child.on("error", (e) => {
        if (isReady) return;
        if (this.child === child) {
          this.child = null;
          this.readyPromise = null; // the next request tries again
        }
        reject(new Error(`Cannot start the executor ${this.executorPath}: ${e.message}`));
      });
      child.on("exit", (code, signal) => {
        // The processes its cells started (they share its process group) end with the session,
        // whatever ended it: a restart starts from nothing, as ipykernel's does under jupyter_client.
        killGroup(child, "SIGKILL");
        if (this.child !== child) return;
        this.child = null;
        this.readyPromise = null;
        const ownRequests = (orphans = new Map(this.pending));
        this.pending.clear();
        // Read the notices on fd 3 (and what is left on the IPC channel) before reporting.
        void allEnded(child, kernelPipe, EXIT_NOTICE_WAIT_MS).then(() => {
          // Messages the executor had not delivered when it ended (what a cell printed just before
          // process.exit, say), in order, as if they had come over IPC.
          for (const msg of notices.undeliveredAfter(lastReceived)) receive(msg, ownRequests);
          const exit: ExecutorExit = { code, signal, stderrTail: this.stderrTail, ...(notices.notice ? { exitCalled: notices.notice } : {}) };
          this.failPending(ownRequests, exit);
          if (this.stopping) return;
          if (!isReady) {
            this.deathsBeforeReady++;
            reject(new Error(`The executor exited before it was ready (${describeExit(exit)}).${exit.stderrTail ? "\n" + exit.stderrTail : ""}`));
          }
          const running: RunningRequest[] = [...ownRequests].map(([id, p]) => ({ id, kind: p.kind }));
          this.emit("exit", exit, running);
          // Start a fresh executor right away unless it keeps dying on start (then: on the next request).
          if (isReady || this.deathsBeforeReady < 2) this.ready().catch(() => undefined);
        });
      });
    });
  }

  private settle(reply: ReplyEvent, pending: Map<string, Pending>): void {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    // One more turn of the event loop, so raw stdout/stderr the child wrote before replying (already
    // readable on its pipes) is passed on before the reply.
    setImmediate(() => p.resolve(reply.content));
  }

  private failPending(pending: Map<string, Pending>, exit: ExecutorExit): void {
    const restarted = "a new one has been started and the session's earlier state (its variables, imports and %pool workers) is gone.";
    const tail = exit.stderrTail.trim().split("\n").slice(-10).filter(Boolean);
    for (const [id, p] of pending) {
      const why =
        exit.exitCalled?.parent === id
          ? `The cell called process.exit(${exit.exitCalled.code}), which ended the executor process that runs the cells; ${restarted}`
          : `The executor process died (${describeExit(exit)}) while handling this request; ${restarted}`;
      p.resolve(syntheticReply(p.kind, "ExecutorDied", why, tail));
    }
  }

  /** Sends a request and resolves with the executor's reply content (or a synthetic one if it dies). */
  async request<K extends keyof ReplyContentOf>(msg: RequestOf<K>): Promise<ReplyContentOf[K]> {
    const kind = (msg as { type: string }).type as K;
    const id = (msg as { id: string }).id;
    try {
      await this.ready();
    } catch (e) {
      return syntheticReply(kind, "ExecutorUnavailable", (e as Error).message, []);
    }
    return new Promise<ReplyContentOf[K]>((resolve) => {
      this.pending.set(id, { kind, resolve: resolve as (c: unknown) => void });
      this.post(msg);
    });
  }

  /** Fire-and-forget message (input_reply, interrupt, shutdown). */
  post(msg: HostToExecutor): void {
    const child = this.child;
    if (!child?.connected) return;
    child.send(msg, (err) => {
      if (err && this.child === child) process.stderr.write(`[tspool] cannot send ${msg.type} to the executor: ${err.message}\n`);
    });
  }

  /**
   * Interrupts the running cell: one byte on fd 3 (read by the executor's helper thread) and an IPC
   * notice. A query the executor is answering (completion, inspection) is answered within
   * INTERRUPTED_QUERY_GRACE_MS either way, so the kernel's shell queue moves on.
   */
  interrupt(): void {
    const child = this.child;
    if (!child) return;
    const pipe = child.stdio[3] as Writable | null;
    if (pipe && !pipe.destroyed) pipe.write(Buffer.from([1]));
    this.post({ type: "interrupt" });
    for (const [id, p] of this.pending) {
      if (p.kind === "execute") continue;
      const timer = setTimeout(() => {
        if (this.pending.get(id) !== p) return;
        this.pending.delete(id);
        process.stderr.write(`[tspool] the executor did not answer an interrupted ${p.kind} request in time; answered it with an empty reply\n`);
        p.resolve(syntheticReply(p.kind, "Interrupted", "the request was interrupted", []));
      }, INTERRUPTED_QUERY_GRACE_MS);
      timer.unref();
    }
  }

  /** Asks the executor to shut down, then kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.post({ type: "shutdown" });
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort (process "exit" handlers): kill the executor and its process group. */
  killNow(): void {
    if (this.child) killGroup(this.child, "SIGKILL");
  }
}

/** The reply a request gets when the executor cannot answer it: an error for execute, empty otherwise. */
function syntheticReply<K extends keyof ReplyContentOf>(kind: K, ename: string, why: string, detail: string[]): ReplyContentOf[K] {
  const replies: { [P in keyof ReplyContentOf]: () => ReplyContentOf[P] } = {
    execute: () => ({ status: "error", ename, evalue: why, traceback: [`${ename}: ${why}`, ...detail] }),
    complete: () => ({ matches: [], cursor_start: 0, cursor_end: 0, metadata: {} }),
    inspect: () => ({ found: false, data: {}, metadata: {} }),
    is_complete: () => ({ status: "unknown" }),
  };
  return replies[kind]();
}

/** Signals the child's process group (the child, and what it started that is still there). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** "signal SIGKILL", "exit code 1" or "process.exit(3) was called": how the executor ended, for messages. */
export function describeExit(exit: Pick<ExecutorExit, "code" | "signal" | "exitCalled">): string {
  if (exit.signal) return `signal ${exit.signal}`;
  if (exit.exitCalled) return `process.exit(${exit.exitCalled.code}) was called`;
  return `exit code ${exit.code}`;
}

/**
 * Resolves once the exited child's IPC channel and kernel pipe have both closed (everything on them
 * read), or after `ms` at the latest.
 */
function allEnded(child: ChildProcess, kernelPipe: Duplex | null, ms: number): Promise<void> {
  const ended: Promise<void>[] = [];
  if (child.connected) ended.push(new Promise((resolve) => child.once("disconnect", () => resolve())));
  if (kernelPipe && !kernelPipe.closed && !kernelPipe.destroyed) ended.push(new Promise((resolve) => kernelPipe.once("close", () => resolve())));
  if (ended.length === 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([Promise.all(ended).then(() => undefined), limit]).finally(() => clearTimeout(timer));
}
