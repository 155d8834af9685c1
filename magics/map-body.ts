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

export const MAP_FN_NAME = "__tspool_map_fn";

export interface MapFunction {
  fn: Function;
  /** A global name whose type is the function's type, for typed `--out` (when asked for or known). */
  typeName?: string;
  /** Body line (0-based) where the function's source starts, when it is written in this body. */
  sourceLine?: number;
  /** The function's TypeScript text and its body position (0-based), when it is written in this body. */
  sourceText?: { text: string; line: number; column: number };
}

/** TS2345, "Argument of type X is not assignable to parameter of type Y": the function does not fit the items. */
const ARGUMENT_NOT_ASSIGNABLE = 2345;

/** The checker-only function the body's function is passed to (see itemsContext). */
const FN_OF = "__tspool_map_fn_of";

/**
 * Declarations, for the checker only, that give `FN_OF` the parameter type the ITERABLE's items
 * call for: `(item: T) => unknown` for map, where T is what iterating the ITERABLE gives (any
 * when that is unknown); for starmap the item's elements as the arguments, compared both ways
 * (an array literal of mixed arguments types each element as the union of all of them).
 * The ITERABLE is not evaluated again: it sits inside a function that is never called.
 */
function itemsContext(iterable: string, star: boolean): string {
  const item = "__tspool_Item<Awaited<ReturnType<typeof __tspool_map_items>>>";
  const fn = star
    ? `{ args(...args: __tspool_Args<${item}>): unknown }["args"]`
    : `(item: ${item}) => unknown`;
  return [
    `const __tspool_map_items = async () => (\n${iterable}\n);`,
    "type __tspool_Item<I> = 0 extends (1 & I) ? any : I extends Iterable<infer T> ? T : I extends AsyncIterable<infer T> ? T : I extends ArrayLike<infer T> ? T : any;",
    "type __tspool_Args<A> = 0 extends (1 & A) ? any[] : A extends readonly unknown[] ? A : any[];",
    `declare function ${FN_OF}<F extends ${fn}>(f: F): F;`,
  ].join("\n");
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
 */
export async function evaluateMapFunction(
  session: MagicSession, body: string, lineOffset: number, parent: string, form: string,
  items: { iterable: string; star: boolean }, needsTypeName = false, externs: readonly string[] = [],
): Promise<MapFunction | ExecuteError> {
  const sf = ts.createSourceFile("body.ts", body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const statements = sf.statements.filter((s) => !ts.isEmptyStatement(s));
  const last = statements[statements.length - 1];
  if (!last) return usageError(`the body of \`${form}\` is empty: put the function to apply below the magic, e.g. \`(x: number) => x * 2\`.`);
  const edits: SourceEdit[] = [];
  // The function is checked as the argument of a function whose parameter type comes from the
  // items: its parameters are typed from them when not annotated, and checked when they are.
  const explain = {
    code: ARGUMENT_NOT_ASSIGNABLE,
    text: `The function does not fit the items of \`${items.iterable.trim()}\` (${items.star ? "each item's elements are its arguments" : "it is called with one item at a time"}):`,
  };
  const typeFromItems = (node: ts.Node) => {
    // Only what may be a function: a literal body keeps its clearer run-time "not a function".
    let inner = node;
    while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner) || ts.isSatisfiesExpression(inner)) inner = inner.expression;
    if (ts.isLiteralExpression(inner) || ts.isObjectLiteralExpression(inner) || ts.isArrayLiteralExpression(inner) || inner.kind === ts.SyntaxKind.TrueKeyword || inner.kind === ts.SyntaxKind.FalseKeyword || inner.kind === ts.SyntaxKind.NullKeyword) return;
    edits.push({ at: node.getStart(sf), text: `${FN_OF}(`, checkOnly: true, explain }, { at: node.getEnd(), text: ")", checkOnly: true });
  };
  let name: string | undefined;
  let sourceLine: number | undefined;
  let sourceText: MapFunction["sourceText"];
  const lineOf = (node: ts.Node) => {
    const p = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    sourceText = { text: body.slice(node.getStart(sf), node.getEnd()), line: p.line, column: p.character };
    return p.line;
  };
  if (ts.isExpressionStatement(last)) {
    const expr = last.expression;
    let inner: ts.Expression = expr;
    while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner) || ts.isSatisfiesExpression(inner)) inner = inner.expression;
    if (ts.isArrowFunction(inner) || ts.isFunctionExpression(inner)) sourceLine = lineOf(inner);
    if (ts.isIdentifier(inner)) {
      name = inner.text; // an earlier function, by name
      typeFromItems(expr);
    } else if (needsTypeName) {
      // Bound to a hidden name, for the type of `--out`: `const NAME = (EXPR)`.
      edits.push({ at: expr.getStart(sf), text: `const ${MAP_FN_NAME} = (` });
      typeFromItems(expr);
      edits.push({ at: expr.getEnd(), text: ")" });
      name = MAP_FN_NAME;
    } else {
      typeFromItems(expr);
    }
  } else {
    name = lastDeclaredFunction(last);
    if (ts.isFunctionDeclaration(last)) {
      sourceLine = lineOf(last);
      // A declaration's parameters need their annotations; the call checks them against the items.
      if (last.name) edits.push({ at: body.length, text: `;\n${FN_OF}(${last.name.text});`, checkOnly: true, report: { at: last.name.getStart(sf), length: last.name.text.length }, explain });
    } else if (ts.isVariableStatement(last)) {
      const init = last.declarationList.declarations[last.declarationList.declarations.length - 1]?.initializer;
      if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) sourceLine = lineOf(init);
      if (init) typeFromItems(init);
    }
    if (!name) {
      return usageError(
        `the body of \`${form}\` must evaluate to the function to apply; it ends with a statement that declares no function. ` +
          `End it with a function expression such as \`(x: number) => x * 2\`, a function's name, or a function declaration.`,
      );
    }
  }
  const r = await session.evaluateCell(body, { parent, lineOffset, externs, edits, checkContext: itemsContext(items.iterable, items.star) });
  if (r.status !== "ok") return r;
  const fn = name === undefined ? r.value : (globalThis as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    return usageError(
      `the body of \`${form}\` must evaluate to a function, but ${name === undefined || name === MAP_FN_NAME ? "its last expression" : `\`${name}\``} is ${describe(fn)}. ` +
        `Write e.g. \`(x: number) => x * 2\`, or the name of a function from an earlier cell.`,
    );
  }
  return { fn, typeName: name, sourceLine, sourceText };
}
