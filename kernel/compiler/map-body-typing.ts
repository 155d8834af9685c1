/**
 * How the body of a `%%pool map ITERABLE` / `%%pool starmap ITERABLE` cell is typed: its function
 * is checked as the argument of a checker-only function whose parameter type comes from the
 * ITERABLE's items, as `items.map(fn)` would be. Unannotated parameters get the item type, and a
 * function that does not fit is an error at the body's own line. The magic runs the body with it
 * (magics/map-body.ts), and completion and inspection look at the body through it, so that
 * `(w) => w.` completes the item's members.
 */
import ts from "./typescript.cjs";
import type { SourceEdit } from "./source-edits.js";

/** TS2345, "Argument of type X is not assignable to parameter of type Y": the function does not fit the items. */
const ARGUMENT_NOT_ASSIGNABLE = 2345;

/** The checker-only function the body's function is passed to. */
const FN_OF = "__tspool_map_fn_of";

export interface MapBodyTyping {
  /** Declarations the checker sees before the body (see CompileOptions.checkContext). */
  checkContext: string;
  /** Checker-only edits of the body that pass its function to FN_OF. */
  edits: SourceEdit[];
}

/**
 * The typing of `body` (parsed as `sf`) for the items of `iterable`; `star` for starmap. The
 * function is the body's last statement: an expression (an arrow, a function expression, an
 * earlier function's name, a call that returns a function), a function declaration or a
 * variable declaration. A literal is left alone: its run-time "not a function" says more.
 */
export function mapBodyTyping(sf: ts.SourceFile, iterable: string, star: boolean): MapBodyTyping {
  const edits: SourceEdit[] = [];
  const statements = sf.statements.filter((s) => !ts.isEmptyStatement(s));
  const last = statements[statements.length - 1];
  const explain = {
    code: ARGUMENT_NOT_ASSIGNABLE,
    text: `The function does not fit the items of \`${iterable.trim()}\` (${star ? "each item's elements are its arguments" : "it is called with one item at a time"}):`,
  };
  const wrap = (node: ts.Node) => {
    let inner = node;
    while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner) || ts.isSatisfiesExpression(inner)) inner = (inner as ts.ParenthesizedExpression).expression;
    const literal = ts.isLiteralExpression(inner) || ts.isObjectLiteralExpression(inner) || ts.isArrayLiteralExpression(inner)
      || inner.kind === ts.SyntaxKind.TrueKeyword || inner.kind === ts.SyntaxKind.FalseKeyword || inner.kind === ts.SyntaxKind.NullKeyword;
    if (literal) return;
    edits.push({ at: node.getStart(sf), text: `${FN_OF}(`, checkOnly: true, explain }, { at: node.getEnd(), text: ")", checkOnly: true });
  };
  if (last && ts.isExpressionStatement(last)) wrap(last.expression);
  else if (last && ts.isFunctionDeclaration(last) && last.name) {
    // A declaration's parameters need their annotations; a call after it checks them against the items.
    const name = last.name;
    edits.push({ at: sf.text.length, text: `;\n${FN_OF}(${name.text});`, checkOnly: true, report: { at: name.getStart(sf), length: name.text.length }, explain });
  } else if (last && ts.isVariableStatement(last)) {
    const init = last.declarationList.declarations[last.declarationList.declarations.length - 1]?.initializer;
    if (init) wrap(init);
  }
  return { checkContext: itemsContext(iterable, star), edits };
}

/**
 * Gives FN_OF the parameter type the items call for: `(item: T) => unknown` for map, where T is
 * what iterating the ITERABLE gives (any when that is unknown); for starmap the item's elements
 * as the arguments, compared both ways (an array literal of mixed argument lists types each
 * element as the union of all of them). The ITERABLE is not evaluated again: it sits inside a
 * function that is never called, on lines of its own (it may end in a `//` comment).
 */
function itemsContext(iterable: string, star: boolean): string {
  const item = "__tspool_Item<Awaited<ReturnType<typeof __tspool_map_items>>>";
  const fn = star ? `{ args(...args: __tspool_Args<${item}>): unknown }["args"]` : `(item: ${item}) => unknown`;
  return [
    `const __tspool_map_items = async () => (\n${iterable}\n);`,
    "type __tspool_Item<I> = 0 extends (1 & I) ? any : I extends Iterable<infer T> ? T : I extends AsyncIterable<infer T> ? T : I extends ArrayLike<infer T> ? T : any;",
    "type __tspool_Args<A> = 0 extends (1 & A) ? any[] : A extends readonly unknown[] ? A : any[];",
    `declare function ${FN_OF}<F extends ${fn}>(f: F): F;`,
  ].join("\n");
}
