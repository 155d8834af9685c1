/**
 * execute_request's `user_expressions`: each expression is evaluated in the session after the
 * cell (type-checked like a cell, silently: no output, `_` untouched), giving a MIME bundle of its
 * value or an error entry (messaging spec, execute_reply).
 */
import type { UserExpressionResult } from "./protocol.js";
import { outputContext, type Session } from "./session.js";
import { toBundle } from "../display/bundle.js";

export async function evaluateUserExpressions(
  session: Session,
  expressions: Record<string, string>,
  parent: string,
): Promise<Record<string, UserExpressionResult>> {
  const out: Record<string, UserExpressionResult> = {};
  for (const [key, expression] of Object.entries(expressions)) {
    if (typeof expression !== "string" || !expression.trim()) {
      out[key] = {
        status: "error",
        ename: "BadRequest",
        evalue: `user_expressions["${key}"] must be a non-empty string of TypeScript (an expression)`,
        traceback: [],
      };
      continue;
    }
    // Parenthesised so that `{ a: 1 }` is an object and a statement (e.g. `const x = 1`) is refused.
    const r = await outputContext.run({ parent, silent: true, allowStdin: false }, () =>
      session.evaluateCell(`(\n${expression}\n)`, { parent, lineOffset: -1 }),
    );
    if (r.status === "ok") {
      const shown = toBundle(r.value);
      out[key] = { status: "ok", data: shown.data, metadata: shown.metadata };
    } else {
      out[key] = { status: "error", ename: r.ename, evalue: r.evalue, traceback: r.traceback };
    }
  }
  return out;
}
