/**
 * The type of what a `%%pool run` body gives back: its last expression's type, as TypeScript text
 * a later cell can use (e.g. `number`, `Particle`, `{ pid: number; name: string }`). The body is
 * checked like the next cell, with the names earlier `%%pool run` cells left on the workers typed
 * `any`, and the type is widened as a function's return type would be (`42` gives `number`).
 * `%%pool run --out NAME` declares NAME as an array of it; a type that only means something
 * inside the body (a type the body declares) does not check in a later cell, and the binding
 * then falls back to `any[]`.
 */
import ts from "./typescript.cjs";
import { wordsOf } from "./checker.js";
import { declaredNames, parseCell } from "./declarations.js";
import { withScratchCell, type ScratchHost } from "./scratch.js";

/**
 * Whether the body gives back a value: whether it ends with an expression statement. A body that
 * ends with a declaration (`function f() {}`, `class C {}`) or another statement gives
 * `undefined`, as an ordinary cell does.
 */
export function runBodyHasValue(body: string): boolean {
  const sf = ts.createSourceFile("body.ts", body, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const statements = sf.statements.filter((st) => !ts.isEmptyStatement(st));
  const last = statements[statements.length - 1];
  return last !== undefined && ts.isExpressionStatement(last);
}

/** The body's value type, or undefined when the body does not end with an expression (its value is `undefined`). */
export function runBodyValueType(host: ScratchHost, body: string, workerNames: readonly string[] = []): string | undefined {
  const own = new Set(declaredNames(parseCell(body)).map((n) => n.name));
  const words = wordsOf(body);
  const onWorkers = workerNames.filter((n) => words.has(n) && !own.has(n) && !host.bindings.has(n));
  const checkContext = onWorkers.length ? `declare var ${onWorkers.map((n) => `${n}: any`).join(", ")};` : undefined;
  return withScratchCell(host, body, (file) => {
    const program = host.checker.languageService.getProgram();
    const sf = program?.getSourceFile(file.fileName);
    if (!program || !sf) return undefined;
    const statements = sf.statements.filter((st) => st.getStart(sf) >= file.headerLength && !ts.isEmptyStatement(st));
    const last = statements[statements.length - 1];
    if (!last || !ts.isExpressionStatement(last)) return undefined;
    const checker = program.getTypeChecker();
    const type = checker.getWidenedType(checker.getBaseTypeOfLiteralType(checker.getTypeAtLocation(last.expression)));
    return checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation);
  }, undefined, { checkContext });
}
