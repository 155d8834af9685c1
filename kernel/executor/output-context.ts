/**
 * Which request output belongs to: the request whose cell runs now, or ran last (so output from
 * a timer a cell left behind still reaches that cell's output area).
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
