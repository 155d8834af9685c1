/**
 * Which request output belongs to. Every async continuation keeps the context of the code that
 * set it up, as AsyncLocalStorage would: a promise reaction (`.then` callback, the rest of an
 * async function after `await`) runs with the context current when it was registered, and the
 * callbacks of timers, `queueMicrotask` and `process.nextTick` (wrapped by cell-globals.ts with
 * `bindToCurrentOutput`) with the context of the code that scheduled them. So output of a cell's
 * promise chain or timer that finishes after the cell lands below that cell, even while later
 * cells run.
 *
 * Deliberately not AsyncLocalStorage itself: that enables Node's async hooks, and V8's
 * terminate-execution (how an interrupt stops a synchronous loop) then leaves Node's async-id
 * stack unbalanced and aborts the process. V8's promise hooks (node:v8 `promiseHooks`) keep no
 * native stack: a terminated reaction merely skips its `after`, and the executor resets the
 * context stack when it starts the next request (`startRequestContext`).
 */
import { promiseHooks } from "node:v8";

export interface OutputContext {
  parent: string;
  silent: boolean;
  allowStdin: boolean;
}

let current: OutputContext | undefined;
/** Context of each pending promise, captured when it was created (i.e. when its reaction was registered). */
const contextOf = new WeakMap<Promise<unknown>, OutputContext>();
/** Contexts to restore when the running promise reactions end (innermost last). */
const outer: (OutputContext | undefined)[] = [];

promiseHooks.createHook({
  init(promise) {
    if (current) contextOf.set(promise, current);
  },
  before(promise) {
    outer.push(current);
    current = contextOf.get(promise) ?? current;
  },
  after() {
    if (outer.length) current = outer.pop();
  },
});

/** setImmediate as Node provides it (never bound to a cell): for the executor's own scheduling. */
export const unboundSetImmediate: typeof setImmediate = globalThis.setImmediate;

export const outputContext = {
  getStore(): OutputContext | undefined {
    return current;
  },
  /** Make `ctx` current (it stays current after `fn` returns, until the next request) and call `fn`. */
  run<T>(ctx: OutputContext, fn: () => T): T {
    current = ctx;
    return fn();
  },
};

/**
 * Start of a request, from a fresh macrotask (no promise reaction is running): forget what an
 * interrupted reaction may have left on the stack, and make `ctx` current.
 */
export function startRequestContext(ctx: OutputContext): void {
  outer.length = 0;
  current = ctx;
}

/** `fn` running with the output context current now, then restoring whatever was current. */
export function bindToCurrentOutput<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const ctx = current;
  if (!ctx) return fn;
  return function (this: unknown, ...args: A): R {
    const before = current;
    current = ctx;
    try {
      return fn.apply(this, args);
    } finally {
      current = before;
    }
  };
}
