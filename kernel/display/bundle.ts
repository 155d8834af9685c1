/**
 * How a value shows itself: the MIME bundle for `display(value)` and for a cell's result.
 *
 * Always `text/plain`, as Node's REPL would print the value (util.inspect, no colours). Richer
 * representations, checked in this order:
 *  1. `value[Symbol.for("tspool.display")]()` returning a MIME bundle (or `{ data, metadata }`);
 *  2. `value[Symbol.for("Jupyter.display")]()` (the same convention Deno's kernel uses);
 *  3. `value._toHtml()` or `value.toHTML()` returning an HTML string -> `text/html`.
 * Anything these return is merged over the plain-text default.
 */
import { inspect } from "node:util";
import type { MimeBundle } from "../executor/protocol.js";

export const DISPLAY_SYMBOL = Symbol.for("tspool.display");
const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

export interface Displayed { data: MimeBundle; metadata: Record<string, unknown> }

export function plainText(value: unknown): string {
  try {
    return inspect(value, { colors: false, showProxy: true, depth: 2 });
  } catch (err) {
    return `[a value that cannot be printed: ${(err as Error)?.message ?? err}]`;
  }
}

function fromHook(result: unknown): Displayed | undefined {
  if (!result || typeof result !== "object") return undefined;
  const r = result as { data?: unknown; metadata?: unknown };
  if (r.data && typeof r.data === "object" && !Array.isArray(r.data))
    return { data: r.data as MimeBundle, metadata: (r.metadata as Record<string, unknown>) ?? {} };
  return { data: result as MimeBundle, metadata: {} };
}

export function toBundle(value: unknown): Displayed {
  const base: Displayed = { data: { "text/plain": plainText(value) }, metadata: {} };
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return base;
  const v = value as Record<string | symbol, unknown>;
  let rich: Displayed | undefined;
  try {
    if (typeof v[DISPLAY_SYMBOL] === "function") rich = fromHook((v[DISPLAY_SYMBOL] as () => unknown).call(value));
    else if (typeof v[JUPYTER_DISPLAY] === "function") rich = fromHook((v[JUPYTER_DISPLAY] as () => unknown).call(value));
    else if (typeof v._toHtml === "function") rich = { data: { "text/html": String((v._toHtml as () => unknown).call(value)) }, metadata: {} };
    else if (typeof v.toHTML === "function") rich = { data: { "text/html": String((v.toHTML as () => unknown).call(value)) }, metadata: {} };
  } catch (err) {
    rich = { data: { "text/plain": `${base.data["text/plain"]}\n(its display method failed: ${(err as Error)?.message ?? err})` }, metadata: {} };
  }
  if (!rich) return base;
  return { data: { ...base.data, ...rich.data }, metadata: { ...base.metadata, ...rich.metadata } };
}
