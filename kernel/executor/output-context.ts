/**
 * Which request output belongs to: the request whose cell runs now (or ran last). Callbacks of
 * timers a cell sets (setTimeout/setInterval/setImmediate, wrapped by cell-globals.ts with
 * `bindToCurrentOutput`) run with the context of the cell that set them, so a timer left behind
 * keeps writing below its own cell even while later cells run.
 *
 * Deliberately not an AsyncLocalStorage: that enables async hooks, and V8's terminate-execution
 * (how an interrupt stops a synchronous loop) then leaves Node's async-id stack unbalanced and
 * aborts the process. The executor runs one request at a time, so "current" is well defined.
 */
export interface OutputContext {
  parent: string;
  silent: boolean;
  allowStdin: boolean;
}

let current: OutputContext | undefined;

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

/** `fn` running with the output context current now, then restoring whatever was current. */
export function bindToCurrentOutput<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const ctx = current;
  if (!ctx) return fn;
  return function (this: unknown, ...args: A): R {
    const outer = current;
    current = ctx;
    try {
      return fn.apply(this, args);
    } finally {
      current = outer;
    }
  };
}
