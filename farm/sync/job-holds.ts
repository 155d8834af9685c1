/**
 * What a task took, so that stopping it gives it back.
 *
 * Interrupting a task (or its timeout, or cancelling it) stops its code where it is, with
 * V8's terminateExecution when it is busy: no `finally` runs, so `withLock` and `await using`
 * never get to release. Each unit of work (a worker's job, or the host's cell given by
 * setAbortSource) has an AbortSignal that aborts exactly when it is stopped. The first time a
 * job takes a given Lock, RLock or semaphore, we note how much of it this realm held before
 * (its "baseline": 0, or more for an RLock or semaphore still held from an earlier task); when
 * the job is stopped, this realm's holdings are brought back down to that baseline. Holds kept
 * on purpose from an earlier task are thus untouched, and a task that finishes normally keeps
 * whatever it did not release (a lock may be released by a later task).
 *
 * Bringing holdings down to a baseline is idempotent, so it is repeated safely wherever an
 * operation of a stopped job completes late (a remote grant arriving after the stop, a
 * Condition that re-takes its lock after the wait was given up).
 */

/** A primitive a job can take. */
export interface JobHeld {
  /** @internal Brings this realm's holdings down to `baseline` (a call to the parent for remote ones). */
  _dropForJob(baseline: number): void | Promise<unknown>;
}

const ledgers = new WeakMap<AbortSignal, Map<JobHeld, number>>();

function dropAll(job: AbortSignal): void {
  const ledger = ledgers.get(job);
  if (ledger === undefined) return;
  for (const [p, baseline] of ledger) {
    try {
      const pending = p._dropForJob(baseline);
      if (pending !== undefined) pending.catch(() => {}); // the parent may be gone: then it released everything anyway
    } catch {
      /* nothing was held */
    }
  }
}

/**
 * Records that `job` takes `p`, holding `baseline` of it before; only the first call for a
 * (job, primitive) pair counts. Call it before taking locally, or with the answer of the first
 * remote grant.
 */
export function noteHold(job: AbortSignal, p: JobHeld, baseline: number): void {
  let ledger = ledgers.get(job);
  if (ledger === undefined) {
    ledger = new Map();
    ledgers.set(job, ledger);
    job.addEventListener("abort", () => dropAll(job), { once: true });
  }
  if (!ledger.has(p)) ledger.set(p, baseline);
}

/** What this realm held of `p` before `job` first took it, if it did. */
export function baselineOf(job: AbortSignal, p: JobHeld): number | undefined {
  return ledgers.get(job)?.get(p);
}
