/**
 * Turns the body of a `%%pool map`/`starmap` cell into the function to apply. The body is
 * type-checked and run like a cell (against earlier cells) and may be:
 *   - an arrow or function expression:         (x: number) => x * 2
 *   - the name of a function from earlier:     fib
 *   - code whose last statement declares one:  function score(x: Item) { ... }   /   const f = (x) => ...
 * An expression body is bound to a fixed hidden name so later cells can refer to its type
 * (`--out NAME` is declared as `Awaited<ReturnType<typeof thatName>>[]`).
 */
import ts from "../kernel/compiler/typescript.cjs";
import type { ExecuteError } from "../kernel/executor/protocol.js";
import type { MagicSession } from "./session-api.js";
import { usageError } from "./parse.js";
import type { SourceEdit } from "../kernel/compiler/source-edits.js";
import { mapBodyTyping } from "../kernel/compiler/map-body-typing.js";

export const MAP_FN_NAME = "__tspool_map_fn";

export interface MapFunction {
  fn: Function;
  /** A global name whose type is the function's type, for typed `--out` (when asked for or known). */
  typeName?: string;
  /** The function's TypeScript text and its body position (0-based), when it is written in this body. */
  sourceText?: { text: string; line: number; column: number };
}

function lastDeclaredFunction(st: ts.Statement): string | undefined {
  if (ts.isFunctionDeclaration(st) && st.name) return st.name.text;
  if (ts.isVariableStatement(st)) {
    const decls = st.declarationList.declarations;
    const d = decls[decls.length - 1];
    if (d && ts.isIdentifier(d.name)) return d.name.text;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"})`;
  return `${typeof value === "undefined" ? "undefined" : "a " + typeof value}`;
}

/**
 * `needsTypeName`: the caller wants a name whose type is the function's (for `--out`); an
 * expression body is then bound to a hidden name, otherwise it runs exactly as written.
 * `workerContext`: declarations of the names `%%pool run` cells left on the workers that the
 * body uses (the function runs there; see worker-declarations.ts).
 */
export async function evaluateMapFunction(
  session: MagicSession, body: string, lineOffset: number, parent: string, form: string,
  items: { iterable: string; star: boolean }, needsTypeName = false, workerContext?: string,
): Promise<MapFunction | ExecuteError> {
  const sf = ts.createSourceFile("body.ts", body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const statements = sf.statements.filter((s) => !ts.isEmptyStatement(s));
  const last = statements[statements.length - 1];
  if (!last) return usageError(`the body of \`${form}\` is empty: put the function to apply below the magic, e.g. \`(x: number) => x * 2\`.`);
  // The function is typed from the items (kernel/compiler/map-body-typing.ts).
  const typing = mapBodyTyping(sf, items.iterable, items.star);
  let edits: readonly SourceEdit[] = typing.edits;
  let name: string | undefined;
  let sourceText: MapFunction["sourceText"];
  const written = (node: ts.Node) => {
    const p = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    sourceText = { text: body.slice(node.getStart(sf), node.getEnd()), line: p.line, column: p.character };
  };
  if (ts.isExpressionStatement(last)) {
    const expr = last.expression;
    let inner: ts.Expression = expr;
    while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner) || ts.isSatisfiesExpression(inner)) inner = inner.expression;
    if (ts.isArrowFunction(inner) || ts.isFunctionExpression(inner)) written(inner);
    if (ts.isIdentifier(inner)) {
      name = inner.text; // an earlier function, by name
    } else if (needsTypeName) {
      // Bound to a hidden name, for the type of `--out`: `const NAME = (EXPR)`, around the typing's edits.
      edits = [{ at: expr.getStart(sf), text: `const ${MAP_FN_NAME} = (` }, ...typing.edits, { at: expr.getEnd(), text: ")" }];
      name = MAP_FN_NAME;
    }
  } else {
    name = lastDeclaredFunction(last);
    if (ts.isFunctionDeclaration(last)) written(last);
    else if (ts.isVariableStatement(last)) {
      const init = last.declarationList.declarations[last.declarationList.declarations.length - 1]?.initializer;
      if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) written(init);
    }
    if (!name) {
      return usageError(
        `the body of \`${form}\` must evaluate to the function to apply; it ends with a statement that declares no function. ` +
          `End it with a function expression such as \`(x: number) => x * 2\`, a function's name, or a function declaration.`,
      );
    }
  }
  const checkContext = workerContext ? `${typing.checkContext}\n${workerContext}` : typing.checkContext;
  const r = await session.evaluateCell(body, { parent, lineOffset, edits, checkContext });
  if (r.status !== "ok") return r;
  const fn = name === undefined ? r.value : (globalThis as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    return usageError(
      `the body of \`${form}\` must evaluate to a function, but ${name === undefined || name === MAP_FN_NAME ? "its last expression" : `\`${name}\``} is ${describe(fn)}. ` +
        `Write e.g. \`(x: number) => x * 2\`, or the name of a function from an earlier cell.`,
    );
  }
  return { fn, typeName: name, sourceText };
}
