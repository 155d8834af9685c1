/** Turns anything a task throws into a SerializedError that survives structured clone. */
import { serialize } from "node:v8";
import type { SerializedError } from "../errors.js";

function cloneable(v: unknown): boolean {
  try { serialize(v); return true; } catch { return false; }
}

export function serializeError(e: unknown, depth = 0): SerializedError {
  if (e instanceof Error || (typeof e === "object" && e !== null && typeof (e as Error).message === "string" && typeof (e as Error).name === "string")) {
    const err = e as Error & { cause?: unknown };
    const out: SerializedError = { name: String(err.name), message: String(err.message) };
    if (typeof err.stack === "string") out.stack = err.stack;
    if ("cause" in err && err.cause !== undefined && depth < 8) {
      out.cause = err.cause instanceof Error ? serializeError(err.cause, depth + 1)
        : { value: cloneable(err.cause) ? err.cause : String(err.cause) };
    }
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(err)) {
      if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
      const v = (err as unknown as Record<string, unknown>)[key];
      if (cloneable(v)) props[key] = v;
    }
    if (Object.keys(props).length) out.props = props;
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
