/**
 * The executor child process: runs cells in its main thread, in its own global scope, and
 * holds the session's state. It reads HostToExecutor messages from the IPC channel and answers
 * with ExecutorToHost events (kernel/executor/protocol.ts). Executes run one at a time, in order;
 * completion, inspection and is_complete are answered while a cell awaits.
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import type { ExecuteError, ExecuteOk, ExecuteRequest, ExecutorToHost, HostToExecutor } from "./protocol.js";
import { Session, outputContext, type OutputContext } from "./session.js";
import { startRequestContext, unboundSetImmediate } from "./output-context.js";
import { ACKS, attachInterruptGuard, protect } from "./interrupt-guard.js";
import { interruptedError, runtimeError } from "./runtime-error.js";
import { installCellGlobals } from "./cell-globals.js";
import { notebookRequire } from "./notebook-require.js";
import { captureOutput } from "./output-capture.js";
import { createEventSender } from "./event-sender.js";
import { toBundle } from "../display/bundle.js";
import { RESOLVE_GLOBAL } from "../compiler/cell-script.js";
import { complete } from "../compiler/completion.js";
import { completeMagicSyntax } from "../../magics/magic-completion.js";
import { inspectMagicSyntax } from "../../magics/magic-inspection.js";
import { inspect } from "../compiler/inspection.js";
import { isComplete } from "../compiler/is-complete.js";
import { pendingInputs, rejectPendingInputs } from "./input-requests.js";
import { evaluateUserExpressions } from "./user-expressions.js";
import { writeExitNotice } from "./exit-notice.js";
import { beforeAbruptEnd } from "./abrupt-end.js";
import { stopProcessGroup } from "./process-group.js";
import { KERNEL_PIPE_FD } from "./kernel-pipe.js";
import { installCellStackTraces } from "./cell-stack-traces.js";
import { saveTypeScriptCodeCache, typeScriptCodeCacheState } from "../compiler/typescript-preload.cjs";

// vm's main-context loader (how cells import) is flagged experimental in Node 20; cells do not
// need to hear about it.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String((warning as Error)?.message ?? warning).includes("USE_MAIN_CONTEXT_DEFAULT_LOADER")) return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const events = createEventSender((message, written) => {
  if (process.connected) process.send!(message, undefined, undefined, () => written());
  else written();
});
const send = (event: ExecutorToHost) => events.send(event);

const session = new Session({ notebookDir: process.cwd(), emit: send });
installCellStackTraces(session.stacks);

// ---- interrupts -----------------------------------------------------------------------------
const shared = new SharedArrayBuffer(16);
const counters = new Int32Array(shared);
let interruptsHandled = 0;
const interrupter = new Worker(new URL("./interrupter.js", import.meta.url), { workerData: { shared, fd: KERNEL_PIPE_FD } });
interrupter.unref();
attachInterruptGuard(counters);
interrupter.on("error", (err) => process.stderr.write(`tspool: interrupt helper failed: ${err.message}\n`));
// The kernel turns SIGINT into an interrupt message; never die of one sent to our process group.
process.on("SIGINT", () => undefined);

// ---- magics and the notebook pool (written by the magics; optional in a partial build) --------
type MagicModule = { runMagicCell(session: Session, code: string, request: ExecuteRequest): Promise<ExecuteOk | ExecuteError> };
type PoolModule = { createNotebookPool(session: Session): unknown; interruptNotebookPools?(): unknown };
let poolModule: PoolModule | undefined;
let poolModuleLoad: Promise<void> | undefined;
/**
 * Loaded once the warm-up is over, or before a cell that is a magic or mentions `pool` (the
 * `pool` global's getter is synchronous): importing it costs the first cell ~0.3 s otherwise.
 */
function poolModuleReady(): Promise<void> {
  poolModuleLoad ??= import(new URL("../../magics/notebook-pool.js", import.meta.url).href)
    .then((m: PoolModule) => void (poolModule = m))
    .catch(() => undefined);
  return poolModuleLoad;
}

function needsPoolModule(code: string): boolean {
  return isMagic(code) || /\bpool\b/.test(code);
}

const cellFilename = join(session.notebookDir, "__tspool_cell.js");
installCellGlobals({
  send,
  require: notebookRequire(cellFilename),
  filename: cellFilename,
  notebookPool: () => {
    if (!poolModule) throw new Error("The notebook pool is not available in this build of tspool (magics/notebook-pool.js is missing).");
    return poolModule.createNotebookPool(session);
  },
});
captureOutput(send);
Object.defineProperty(globalThis, RESOLVE_GLOBAL, {
  value: (specifier: unknown) => {
    if (typeof specifier !== "string") return specifier;
    try {
      return session.resolveModule(specifier);
    } catch {
      return specifier; // let import() report it in its own words
    }
  },
  enumerable: false,
});

// ---- execution ----------------------------------------------------------------------------
interface Running {
  request: ExecuteRequest;
  done: boolean;
  /** Set when an interrupt takes the cell over: only the interrupt then ends it. */
  interrupted: boolean;
  finish(content: ExecuteOk | ExecuteError, byInterrupt?: boolean): void;
}
let running: Running | undefined;
const queue: ExecuteRequest[] = [];

/**
 * `exit` or `quit` alone in a cell (as typed in a console; optionally called, `exit(true)` keeping
 * the kernel running) asks the frontend to close, as in ipykernel — unless the session has its own
 * value of that name.
 */
function exitRequest(code: string): { keepKernel: boolean } | undefined {
  const m = /^\s*(exit|quit)\s*(?:\(\s*(true|false)?\s*\))?\s*;?\s*$/.exec(code);
  if (!m || session.bindings.has(m[1]!) || m[1]! in globalThis) return undefined;
  return { keepKernel: m[2] === "true" };
}

function isMagic(code: string): boolean {
  return /^\s*%/.test(code);
}

async function runMagic(code: string, request: ExecuteRequest): Promise<ExecuteOk | ExecuteError> {
  let mod: MagicModule;
  try {
    mod = (await import(new URL("../../magics/dispatch.js", import.meta.url).href)) as MagicModule;
  } catch (err) {
    const name = /^\s*(%%?[\w-]*)/.exec(code)?.[1] ?? "%";
    return { status: "error", ename: "MagicError", evalue: `${name}: magics are not available in this build of tspool (${(err as Error).message})`, traceback: [] };
  }
  return mod.runMagicCell(session, code, request);
}

async function evaluate(request: ExecuteRequest): Promise<ExecuteOk | ExecuteError> {
  const content = await evaluateCode(request);
  const expressions = request.userExpressions;
  if (content.status !== "ok" || !expressions || Object.keys(expressions).length === 0) return content;
  if (Object.values(expressions).some((e) => typeof e === "string" && needsPoolModule(e))) await poolModuleReady();
  return { ...content, userExpressions: await evaluateUserExpressions(session, expressions, request.id) };
}

async function evaluateCode(request: ExecuteRequest): Promise<ExecuteOk | ExecuteError> {
  if (!request.code.trim()) return { status: "ok" };
  const exit = exitRequest(request.code);
  if (exit) return { status: "ok", askExit: exit };
  if (needsPoolModule(request.code)) await poolModuleReady();
  if (isMagic(request.code)) return runMagic(request.code, request);
  const r = await session.evaluateCell(request.code, { parent: request.id });
  if (r.status !== "ok") return r;
  if (r.value === undefined || request.silent) return { status: "ok" };
  if (!session.bindings.has("_")) (globalThis as Record<string, unknown>)._ = r.value;
  const shown = toBundle(r.value);
  return { status: "ok", result: { data: shown.data, metadata: shown.metadata } };
}

function startNext(): void {
  if (running || queue.length === 0) return;
  const request = queue.shift()!;
  const run: Running = {
    request,
    done: false,
    interrupted: false,
    finish(content, byInterrupt = false) {
      if (run.done || (run.interrupted && !byInterrupt)) return;
      run.done = true;
      send({ type: "reply", id: request.id, kind: "execute", content });
      if (running === run) running = undefined;
      unboundSetImmediate(startNext);
    },
  };
  running = run;
  session.executionCount = request.executionCount;
  const ctx: OutputContext = { parent: request.id, silent: request.silent, allowStdin: request.allowStdin };
  // Run from a fresh macrotask so that an interrupt terminating the cell's synchronous code
  // aborts only that callback, never the IPC message handling; and inside it from a microtask,
  // because the executor survives JavaScript terminated in a microtask but not directly in a
  // macrotask callback (Node then ends the process). (Unbound: the context set here must stay
  // current for the cell's continuations.)
  unboundSetImmediate(() => {
    startRequestContext(ctx);
    outputContext.run(ctx, () => {
      Promise.resolve()
        .then(() => evaluate(request))
        .then(
          (content) => run.finish(content),
          (err) => run.finish(runtimeError(err, session.stacks)),
        );
    });
  });
}

const POOL_INTERRUPT_LIMIT_MS = 3000;

async function onInterrupt(): Promise<void> {
  interruptsHandled++;
  Atomics.store(counters, ACKS, interruptsHandled);
  Atomics.notify(counters, ACKS);
  const current = running;
  if (current) current.interrupted = true;
  session.abandonRunningCell();
  rejectPendingInputs();
  if (poolModule?.interruptNotebookPools) {
    // Stopping pool tasks is best effort and bounded: the cell ends either way.
    const bounded = new Promise((r) => setTimeout(r, POOL_INTERRUPT_LIMIT_MS).unref());
    await Promise.race([Promise.resolve(poolModule.interruptNotebookPools()).catch(() => undefined), bounded]);
  }
  current?.finish(interruptedError(), true);
}

process.on("message", (msg: HostToExecutor) => {
  switch (msg.type) {
    case "execute":
      queue.push(msg);
      startNext();
      break;
    case "complete":
      reply(msg.id, "complete", () => completeMagicSyntax(msg.code, msg.cursor, () => session.bindings.all()) ?? complete(session, msg.code, msg.cursor), { matches: [], cursor_start: msg.cursor, cursor_end: msg.cursor, metadata: {} });
      break;
    case "inspect":
      reply(msg.id, "inspect", () => inspectMagicSyntax(msg.code, msg.cursor) ?? inspect(session, msg.code, msg.cursor, msg.detailLevel), { found: false, data: {}, metadata: {} });
      break;
    case "is_complete":
      reply(msg.id, "is_complete", () => isComplete(msg.code), { status: "unknown" });
      break;
    case "input_reply":
      pendingInputs.get(msg.id)?.resolve(msg.value);
      break;
    case "interrupt":
      void onInterrupt();
      break;
    case "shutdown":
      setImmediate(exitAsAsked);
      break;
  }
});

function reply<K extends "complete" | "inspect" | "is_complete">(id: string, kind: K, compute: () => unknown, fallback: unknown): void {
  let content: unknown;
  try {
    content = compute(); // compiler work inside is guarded; live-object reads (completion) are interruptible
  } catch (err) {
    process.stderr.write(`tspool: ${kind} failed: ${(err as Error)?.stack ?? err}\n`);
    content = fallback;
  }
  send({ type: "reply", id, kind, content } as ExecutorToHost);
}

// ---- ending ----------------------------------------------------------------------------------
let exitAsked = false;
/**
 * Ends the process because the kernel asked (shutdown) or is gone (its IPC channel closed). The
 * exit handlers run (the session's own, registered earlier, first); the last one stops the
 * processes the cells started (process-group.ts).
 */
function exitAsAsked(): void {
  if (exitAsked) return;
  exitAsked = true;
  process.on("exit", stopProcessGroup);
  process.exit(0);
}
process.on("disconnect", exitAsAsked);
// Any other end of the process is JavaScript calling process.exit(): tell the kernel which cell
// did, so the cell's error can say so (exit-notice.ts).
process.on("exit", (code) => {
  if (!exitAsked) writeExitNotice({ exit: { code, parent: outputContext.getStore()?.parent }, undelivered: events.flushUndelivered() });
});
// Ends that run no exit handlers: what the cell printed just before still reaches it.
beforeAbruptEnd(() => writeExitNotice({ undelivered: events.flushUndelivered() }));
// A rejection nobody handles (e.g. from a timer a cell started) is reported, never fatal.
process.on("unhandledRejection", (reason) => reportStray(reason));
process.on("uncaughtException", (err) => reportStray(err));

function reportStray(err: unknown): void {
  const ctx = outputContext.getStore();
  const parent = ctx?.parent ?? running?.request.id;
  const e = runtimeError(err, session.stacks);
  const text = `Uncaught ${e.traceback.join("\n")}\n`;
  if (parent) send({ type: "stream", parent, name: "stderr", text });
  else process.stderr.write(text);
}

send({ type: "ready", pid: process.pid });
// Parse the libraries and build a first type checker now, so that the first cell is quick: in
// steps, one per turn of the event loop, so that requests arriving meanwhile (is_complete from a
// console, which waits only a second) are answered between them.
// TSPOOL_WARM_UP_LOG=1 reports the warm-up's steps on stderr; TSPOOL_WARM_UP_PAUSE_MS spaces
// them out (tests use it to catch requests in the middle of the warm-up).
const warmUp = session.checker.warmUpSteps();
const warmUpLog = process.env.TSPOOL_WARM_UP_LOG === "1";
const warmUpPause = Number(process.env.TSPOOL_WARM_UP_PAUSE_MS) || 0;
const warmUpStart = performance.now();
let warmUpSteps = 0;
let warmUpLongest = 0;
function warmUpStep(): void {
  const t = performance.now();
  try {
    if (protect(() => warmUp.next()).done) {
      if (warmUpLog) {
        const ms = Math.round(performance.now() - warmUpStart);
        process.stderr.write(`tspool: warm-up finished: ${warmUpSteps} steps in ${ms} ms, the longest ${Math.round(warmUpLongest)} ms; TypeScript code cache: ${typeScriptCodeCacheState()}\n`);
      }
      // Now that the compiler's functions ran, a code cache of typescript.js covers them too.
      unboundSetImmediate(() => {
        saveTypeScriptCodeCache();
        void poolModuleReady();
      });
      return;
    }
  } catch (err) {
    process.stderr.write(`tspool: type checker warm-up failed: ${(err as Error)?.stack ?? err}\n`);
    void poolModuleReady();
    return;
  }
  warmUpSteps++;
  warmUpLongest = Math.max(warmUpLongest, performance.now() - t);
  if (warmUpPause > 0) setTimeout(warmUpStep, warmUpPause).unref();
  else unboundSetImmediate(warmUpStep);
}
unboundSetImmediate(warmUpStep);
