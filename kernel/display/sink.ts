/**
 * The connection between the display API and whatever runs it. The tspool executor installs a
 * sink on `globalThis` under a registered symbol (so that a second copy of this package, e.g. in
 * the notebook's own node_modules, reaches the same kernel); outside a kernel there is none and
 * the API says so.
 */
import type { MimeBundle } from "../executor/protocol.js";

export const SINK = Symbol.for("tspool.display.sink");

export interface DisplaySink {
  display(data: MimeBundle, metadata: Record<string, unknown>, opts: { id?: string; update?: boolean }): void;
  clearOutput(wait: boolean): void;
  input(prompt: string, password: boolean): Promise<string>;
}

export function currentSink(what: string): DisplaySink {
  const sink = (globalThis as Record<symbol, unknown>)[SINK] as DisplaySink | undefined;
  if (!sink) throw new Error(`${what} works only inside a tspool kernel (no notebook frontend is attached to this process).`);
  return sink;
}

export function installSink(sink: DisplaySink): void {
  Object.defineProperty(globalThis, SINK, { value: sink, configurable: true, enumerable: false, writable: true });
}
