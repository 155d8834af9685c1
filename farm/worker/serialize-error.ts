/**
 * Turns anything a task throws into a SerializedError that survives structured clone: name,
 * message, stack, its cause and, for an AggregateError (or any error with an `errors` array),
 * each of its errors, described the same way, and its other own properties (enumerable or not,
 * like a `code` set with Object.defineProperty) that can be cloned.
 */
import { serialize } from "node:v8";
import type { SerializedError } from "../errors.js";

/** How deep causes and aggregated errors are followed (a cycle ends there too). */
const MAX_DEPTH = 8;
const DESCRIBED_APART = new Set(["name", "message", "stack", "cause", "errors"]);

function cloneable(v: unknown): boolean {
  try { serialize(v); return true; } catch { return false; }
}

function isErrorLike(e: unknown): e is Error {
  return e instanceof Error || (typeof e === "object" && e !== null && typeof (e as Error).message === "string" && typeof (e as Error).name === "string");
}

/** A cause or an aggregated error: described like an error if it is one, else kept as a value. */
function related(v: unknown, depth: number): SerializedError | { value: unknown } {
  return v instanceof Error ? serializeError(v, depth + 1) : { value: cloneable(v) ? v : String(v) };
}

function ownProperties(err: Error): Record<string, unknown> | undefined {
  const props: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.getOwnPropertyNames(err)) {
    if (DESCRIBED_APART.has(key)) continue;
    let v: unknown;
    try {
      v = (err as unknown as Record<string, unknown>)[key];
    } catch {
      continue; // a getter that throws
    }
    if (cloneable(v)) { props[key] = v; any = true; }
  }
  return any ? props : undefined;
}

export function serializeError(e: unknown, depth = 0): SerializedError {
  if (isErrorLike(e)) {
    const err = e as Error & { cause?: unknown; errors?: unknown };
    const out: SerializedError = { name: String(err.name), message: String(err.message) };
    if (typeof err.stack === "string") out.stack = err.stack;
    if (depth < MAX_DEPTH) {
      if ("cause" in err && err.cause !== undefined) out.cause = related(err.cause, depth);
      if (Array.isArray(err.errors)) out.errors = err.errors.map((x) => related(x, depth));
    }
    const props = ownProperties(err);
    if (props) out.props = props;
    return out;
  }
  const out: SerializedError = { name: "Error", message: `a non-Error value was thrown: ${describe(e)}` };
  if (cloneable(e)) out.props = { thrown: e };
  return out;
}

function describe(v: unknown): string {
  try {
    if (typeof v === "string") return JSON.stringify(v);
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
