/**
 * Marks stretches where the executor runs its own code (type checking, completion) so the
 * interrupt helper never terminates JavaScript in the middle of them: stopping the compiler
 * halfway would leave its incremental state inconsistent. An interrupt arriving meanwhile is
 * simply handled when that stretch ends (the main thread then acknowledges it as usual).
 *
 * The flag lives in the interrupt helper's shared memory (see interrupter.ts, slot PROTECTED).
 */
/** Slots of the shared Int32Array (see interrupter.ts). */
export const REQUESTS = 0;
export const ACKS = 1;
export const PROTECTED = 2;

let counters: Int32Array | undefined;

export function attachInterruptGuard(shared: Int32Array): void {
  counters = shared;
}

export function protect<T>(fn: () => T): T {
  if (!counters) return fn();
  const outer = Atomics.load(counters, PROTECTED);
  Atomics.store(counters, PROTECTED, 1);
  try {
    return fn();
  } finally {
    Atomics.store(counters, PROTECTED, outer);
  }
}
