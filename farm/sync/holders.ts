/**
 * Who holds a lock or a semaphore permit, and what happens when that holder ends.
 *
 * Locks, RLocks and semaphores record their holders in their shared memory as "holder tokens"
 * (small integers, 0 = nobody):
 * - the main thread of this process: 1;
 * - a thread (a thread worker, or any worker_threads Worker): 2 × its threadId, so the realm that
 *   started the thread can tell its token from its threadId;
 * - a worker served by this realm (a process worker, or a thread without the memory): a negative
 *   token this realm gives the caller on its first call, tied to the caller's life signal.
 *
 * When a holder ends (its worker exits for any reason), `holderGone(token)` runs in the realm that
 * learns about it: every shared Lock, RLock and semaphore this realm knows (every one that was sent
 * to or received from another realm) gives back what that token held and remembers that its owner
 * died (`ownerDied()`). A realm knows about the end of the workers it serves (their calls carry the
 * pool's life signal for the worker) and of its thread workers (the Pool calls
 * `releaseHoldsWhenThreadEnds` for each).
 *
 * The same tokens mark other per-side state in shared memory that a thread worker may leave
 * behind: a Condition's waiter slots and a Barrier's waiting parties (see their `_ownerGone`).
 * Those are always marked with the token of the realm running the wait (`localHolder`), since a
 * wait served for a process worker is given up through that worker's life signal instead.
 */

import { isMainThread, threadId } from "node:worker_threads";
import type { HandleCaller } from "../handles.js";

/** The token of the main thread of a process. */
const MAIN_THREAD_HOLDER = 1;

/** The token a thread with this threadId uses for what it takes itself (never 0, never odd). */
export function threadHolder(id: number): number {
  return id * 2;
}

/** The token of this realm (process main thread or thread) for what it takes itself. */
export const localHolder: number = isMainThread ? MAIN_THREAD_HOLDER : threadHolder(threadId);

/** A primitive that can give back what a holder that ended took (or undo what it left half done). */
export interface Recoverable {
  /** @internal Gives back everything `holder` holds, and marks the owner as died if it held anything. */
  _ownerGone(holder: number): void;
}

export function isRecoverable(p: object): p is Recoverable {
  return typeof (p as Partial<Recoverable>)._ownerGone === "function";
}

const known = new Set<WeakRef<Recoverable>>();
const tracked = new WeakSet<Recoverable>();
const forget = new FinalizationRegistry<WeakRef<Recoverable>>((ref) => known.delete(ref));

/** Makes `p` part of the release when a holder ends (called once it crossed to or from another realm). */
export function trackRecoverable(p: Recoverable): void {
  if (tracked.has(p)) return;
  tracked.add(p);
  const ref = new WeakRef(p);
  known.add(ref);
  forget.register(p, ref);
}

/** A holder ended: everything it held in the primitives this realm knows is given back. */
export function holderGone(holder: number): void {
  for (const ref of known) {
    const p = ref.deref();
    if (p === undefined) {
      known.delete(ref);
      continue;
    }
    try {
      p._ownerGone(holder);
    } catch (e) {
      process.emitWarning(`tspool: could not release what an ended worker held: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * For the Pool: a thread worker with this threadId took locks itself (Atomics on shared memory,
 * without telling anybody); when `ended` aborts (the worker is gone) they are released.
 */
export function releaseHoldsWhenThreadEnds(id: number, ended: AbortSignal): void {
  const release = () => holderGone(threadHolder(id));
  if (ended.aborted) release();
  else ended.addEventListener("abort", release, { once: true });
}

// Tokens for callers this realm serves: negative, and distinct between the threads of one process
// (a thread worker running its own pool serves callers too, on the same shared memory).
const remotePrefix = (threadId & 0x7fff) * 0x10000;
let remoteCount = 0;
const remoteByLife = new WeakMap<AbortSignal, number>();
const remoteById = new Map<number, number>();

function newRemoteHolder(): number {
  remoteCount = (remoteCount + 1) & 0xffff;
  return -(remotePrefix + remoteCount) - 1;
}

/**
 * The token of a worker whose operations this realm performs. A caller is known by its life
 * signal (aborted when the worker goes away: its holds are then given back); a caller without one
 * (a host calling serveHandleCall itself) by its worker id.
 */
export function remoteHolder(caller: HandleCaller): number {
  const life = caller.signal;
  if (life === undefined) {
    let token = remoteById.get(caller.workerId);
    if (token === undefined) remoteById.set(caller.workerId, (token = newRemoteHolder()));
    return token;
  }
  let token = remoteByLife.get(life);
  if (token === undefined) {
    const t = newRemoteHolder();
    token = t;
    remoteByLife.set(life, t);
    if (!life.aborted) life.addEventListener("abort", () => holderGone(t), { once: true });
  }
  return token;
}
