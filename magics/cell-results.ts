/**
 * How a magic's value becomes the cell's result: the execute_result bundle, `_`, and with
 * `--out NAME` a binding later cells can use with its type (declared through the session as an
 * ordinary `let` whose type the checker derives, e.g. from the mapped function's return type).
 */
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import { toBundle } from "../kernel/display/bundle.js";
import type { MagicSession } from "./session-api.js";
import { usageError } from "./parse.js";
import { shadowedGlobal } from "./variable-names.js";

const HANDOVER = "__tspool_out";

/**
 * The error for `--out NAME` when NAME is a global of the kernel that no cell declared (checked
 * before the magic runs, so that nothing is computed for a binding that cannot be made).
 */
export function outNameError(session: MagicSession, form: string, name: string): ExecuteError | undefined {
  const problem = shadowedGlobal(name, (n) => session.bindings.get(n) !== undefined);
  return problem ? usageError(`\`${form}\`: \`--out ${name}\`: ${problem}.`) : undefined;
}

/**
 * Binds `value` to `name` for later cells. `type` is a TypeScript type expression valid in a cell
 * (e.g. `Awaited<ReturnType<typeof f>>[]`).
 */
export async function bindOut(session: MagicSession, parent: string, name: string, value: unknown, type: string): Promise<ExecuteError | undefined> {
  const g = globalThis as Record<string, unknown>;
  g[HANDOVER] = value;
  try {
    const r = await session.evaluateCell(`let ${name}: ${type} = (globalThis as any).${HANDOVER};`, { parent });
    if (r.status !== "ok") {
      // The type could not be expressed (e.g. the function's type refers to something private): fall back to any.
      const again = await session.evaluateCell(`let ${name}: any = (globalThis as any).${HANDOVER};`, { parent });
      if (again.status !== "ok") return again;
    }
  } finally {
    delete g[HANDOVER];
  }
  return undefined;
}

/** The cell's execute_result for `value`; `_` holds it (unless a cell declared its own `_`). */
export function resultOf(session: MagicSession, value: unknown): ExecuteOk {
  if (!session.bindings.get("_")) (globalThis as Record<string, unknown>)._ = value;
  const shown = toBundle(value);
  return { status: "ok", result: { data: shown.data, metadata: shown.metadata } };
}
