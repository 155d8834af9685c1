/**
 * The common shape of every synchronisation primitive: it can be passed to workers (it is a
 * handle, see ../handles.ts) and runs in one of two modes.
 * - local: the state is in this realm: either in a SharedArrayBuffer this realm can touch
 *   (the creating realm, or a thread worker that received the memory) or in plain objects of the
 *   realm that created it (queues, pipes). Operations run right here.
 * - remote: a process worker (or a thread without the memory) holds a proxy; every operation is
 *   sent to the creating realm through `env.call`, which executes it with `serve`.
 */

import { randomBytes } from "node:crypto";
import {
  HANDLE,
  exposeHandle,
  withdrawHandle,
  RemoteHandle,
  type Handle,
  type HandleCaller,
  type HandleDescriptor,
  type WorkerEnv,
} from "../handles.js";
import { SyncUsageError, abortReason, reviveSyncError } from "./errors.js";
import { isRecoverable, remoteHolder, trackRecoverable } from "./holders.js";

/** Makes this realm's cancellation tokens distinct from every other caller's. */
const realmNonce = randomBytes(6).toString("hex");

/**
 * The farm's environment when this realm is a farm worker (set by farm/worker/runtime.ts before
 * any task runs, so before the first operation of any primitive here). Looked up once: it sits on
 * every operation's path.
 */
let realmEnv: WorkerEnv | undefined | null = null;
function workerEnvOfRealm(): WorkerEnv | undefined {
  if (realmEnv === null) realmEnv = (globalThis as { __tspoolWorker?: WorkerEnv }).__tspoolWorker;
  return realmEnv;
}

let abortSource: (() => AbortSignal | undefined) | null = null;

/**
 * Lets the host tie blocking operations to its own notion of "the current unit of work": the
 * notebook executor passes a function returning the running cell's signal, so that interrupting
 * a cell that awaits `lock.acquire()` or `q.get()` withdraws the wait instead of leaving it to
 * take the lock or the item later. In workers the farm provides `WorkerEnv.jobSignal` instead.
 * Pass null to remove.
 */
export function setAbortSource(source: (() => AbortSignal | undefined) | null): void {
  abortSource = source;
}

const CANCELLABLE = "$cancellable";
const CANCEL = "$cancel";
let nextCallToken = 1;

/** How a primitive is rebuilt from a descriptor on the receiving side (second constructor argument). */
export interface Revival {
  descriptor: HandleDescriptor;
  env: WorkerEnv | null;
}

/** True when the receiving side can operate on the descriptor's shared memory directly. */
export function canShareMemory(r: Revival): boolean {
  return r.descriptor.sab instanceof SharedArrayBuffer && (r.env === null || r.env.isThread);
}

/**
 * Who a served operation is for: `holder` is the caller's holder token (see holders.ts), `life`
 * the caller's own life signal (`signal` may be narrower: it also aborts when the caller withdraws
 * the operation).
 */
export interface ServedCaller extends HandleCaller {
  holder: number;
  life?: AbortSignal;
}

export function isRevival(x: unknown): x is Revival {
  return typeof x === "object" && x !== null && "descriptor" in x && "env" in x && Object.keys(x).length === 2;
}

export abstract class SharedPrimitive implements Handle {
  #descriptor: HandleDescriptor | null = null;
  readonly #remote: RemoteHandle | null = null;
  readonly #env: WorkerEnv | null = null;
  readonly #home: { origin: string; id: number } | undefined;
  /** Blocking operations served for workers that they may still withdraw, by call token. */
  readonly #cancellable = new Map<string, AbortController>();

  /**
   * `revival` undefined: a fresh primitive made here. Otherwise `local` says whether this side
   * runs operations itself (shared memory reached it) or forwards them to the creating realm.
   */
  protected constructor(label: string, revival: Revival | undefined, local: boolean) {
    if (revival === undefined) return;
    this.#env = revival.env;
    if (local) {
      // A thread worker keeps the parent's identity; a parent adopting memory from a thread
      // worker serves it itself (under a new id) so that its process workers can reach it.
      if (revival.env !== null) this.#descriptor = revival.descriptor;
      else if (revival.descriptor.origin !== undefined) this.#home = { origin: revival.descriptor.origin, id: revival.descriptor.id };
      if (isRecoverable(this)) trackRecoverable(this); // other realms use the same memory
      return;
    }
    if (revival.env === null) {
      // Made inside a worker (a process, or a thread for queues and pipes) and sent out: nobody here can reach its state. Decoding must
      // not fail (that would fail the whole message), so every operation reports the mistake.
      const message =
        `this ${label} was created inside a worker and can only be used in that worker; ` +
        `create ${label}s in the main program (or notebook) and pass them to workers`;
      this.#descriptor = revival.descriptor;
      this.#remote = new RemoteHandle(revival.descriptor, {
        isThread: false,
        workerId: -1,
        call: () => Promise.reject(new SyncUsageError(message)),
      });
      return;
    }
    this.#descriptor = revival.descriptor;
    this.#remote = new RemoteHandle(revival.descriptor, revival.env);
  }

  /** The kind name under which this class registered its reviver. */
  protected abstract handleKind(): string;
  /** The shared memory a thread worker needs to run this primitive itself, if any. */
  protected handleMemory(): SharedArrayBuffer | undefined {
    return undefined;
  }
  /** Anything else the receiving side needs (may contain other handles). */
  protected handleExtra(): unknown {
    return undefined;
  }
  /** Executes an operation requested by a remote proxy of this primitive. */
  protected abstract serve(method: string, args: unknown[], caller: ServedCaller): unknown;

  /**
   * The signal of the unit of work running now: the worker's job (WorkerEnv.jobSignal, also for
   * primitives created inside the worker), else the host's cell (setAbortSource). It aborts when
   * that job or cell is stopped.
   */
  protected currentJob(): AbortSignal | undefined {
    return (this.#env ?? workerEnvOfRealm())?.jobSignal?.() ?? abortSource?.();
  }

  /** The caller's signal combined with the running job's or cell's (see setAbortSource, WorkerEnv.jobSignal). */
  protected signalFor(signal: AbortSignal | undefined, job: AbortSignal | undefined = this.currentJob()): AbortSignal | undefined {
    if (job === undefined) return signal;
    if (signal === undefined) return job;
    return AbortSignal.any([signal, job]);
  }

  /** True when operations are forwarded to another realm (so they are all asynchronous round trips). */
  get isRemote(): boolean {
    return this.#remote !== null;
  }

  /**
   * Calls the realm that created this primitive even when operating locally on shared memory
   * (a thread worker reaching something that only exists there, such as a Barrier's action).
   */
  protected async callHome(method: string, args: unknown[]): Promise<unknown> {
    if (this.#remote !== null) return this.callRemote(method, args);
    if (this.#env === null || this.#descriptor === null) {
      throw new SyncUsageError(`this ${this.handleKind()} needs something that only exists in the worker that created it`);
    }
    try {
      return await new RemoteHandle(this.#descriptor, this.#env).call(method, args);
    } catch (e) {
      throw reviveSyncError(e);
    }
  }

  /**
   * A blocking remote operation the caller may abort. On abort the creating realm is told to
   * withdraw it, and we wait for its answer: either it was withdrawn (we reject with the signal's
   * reason) or it had already completed, in which case `undo` gives back what it took (a lock,
   * an item) before we reject; without `undo` a completed operation keeps its result (the abort
   * came too late, as for a Condition that was notified first).
   */
  protected async callRemoteAbortable(
    method: string,
    args: unknown[],
    signal: AbortSignal | undefined,
    undo?: (result: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    if (signal === undefined) return this.callRemote(method, args);
    signal.throwIfAborted();
    const token = `${realmNonce}:${nextCallToken++}`;
    const onAbort = () => void this.callRemote(CANCEL, [token]).catch(() => {});
    signal.addEventListener("abort", onAbort, { once: true });
    let result: unknown;
    try {
      result = await this.callRemote(CANCELLABLE, [token, method, args]);
    } catch (e) {
      throw signal.aborted ? abortReason(signal) : e;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted && undo !== undefined) {
      await undo(result).catch(() => {});
      throw abortReason(signal);
    }
    return result;
  }

  /** Serves remote calls, including the cancellable wrapper used by callRemoteAbortable. */
  #dispatch(method: string, args: unknown[], caller: HandleCaller): unknown {
    if (method === CANCEL) {
      this.#cancellable.get(args[0] as string)?.abort(new Error("withdrawn by the caller"));
      return;
    }
    const served: ServedCaller = {
      workerId: caller.workerId, isThread: caller.isThread, signal: caller.signal, holder: remoteHolder(caller), life: caller.signal,
    };
    if (method === CANCELLABLE) return this.#serveCancellable(args as [string, string, unknown[]], served);
    return this.serve(method, args, served);
  }

  async #serveCancellable([token, inner, innerArgs]: [string, string, unknown[]], caller: ServedCaller): Promise<unknown> {
    const withdraw = new AbortController();
    this.#cancellable.set(token, withdraw);
    const signal = caller.signal === undefined ? withdraw.signal : AbortSignal.any([caller.signal, withdraw.signal]);
    try {
      return await this.serve(inner, innerArgs, { ...caller, signal });
    } finally {
      this.#cancellable.delete(token);
    }
  }

  protected async callRemote(method: string, args: unknown[]): Promise<unknown> {
    try {
      return await this.#remote!.call(method, args);
    } catch (e) {
      throw reviveSyncError(e);
    }
  }

  [HANDLE](): HandleDescriptor {
    if (this.#remote === null && isRecoverable(this)) trackRecoverable(this); // others may use it from now on
    return (this.#descriptor ??= exposeHandle(
      this.handleKind(),
      this,
      (method, args, caller) => this.#dispatch(method, args, caller),
      { sab: this.handleMemory(), extra: this.handleExtra(), home: this.#home },
    ));
  }

  /**
   * Stops serving this primitive to workers (it stays usable here). Only needed to free the
   * memory of many short-lived primitives that were sent to workers.
   */
  unshare(): void {
    if (this.#descriptor !== null && this.#remote === null) {
      withdrawHandle(this.#descriptor);
      this.#descriptor = null;
    }
  }
}

export function unknownMethod(kind: string, method: string): never {
  throw new SyncUsageError(`${kind} has no remote operation "${method}"`);
}

export function asNumber(v: unknown, what: string): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new TypeError(`${what} must be a number, got ${typeof v}`);
  return v;
}

/** Timeout argument as it travels to the parent: Infinity does not survive JSON, so null stands for it. */
export function wireTimeout(timeout: number): number | null {
  return timeout === Infinity ? null : timeout;
}
export function fromWireTimeout(v: unknown): number {
  return v === null || v === undefined ? Infinity : asNumber(v, "timeout");
}
