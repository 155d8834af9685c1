/**
 * How `%%pool run` bodies are typed. A body runs on the workers, so the names earlier run cells
 * declared there are the workers' names: a later body sees each with the type it had where it was
 * declared (`let k = "s"` gives `string`, even if the kernel has a `let k = 1` of its own), and
 * assignments are checked against that type. The checker gets them as declarations in the body's
 * check context, which stand for the kernel's bindings of the same names (see CompileOptions).
 *
 * Also: the type of what a body gives back (its last expression's, as TypeScript text a later
 * cell can use, e.g. `number`, `Particle`, `{ pid: number; name: string }`, widened as a
 * function's return type would be: `42` gives `number`). `%%pool run --out NAME` declares NAME
 * as an array of it; a type that only means something inside the body (a type the body
 * declares) does not check in a later cell, and the binding then falls back to `any[]`.
 */
import ts from "./typescript.cjs";
import { wordsOf } from "./checker.js";
import { declaredNames, parseCell } from "./declarations.js";
import type { BindingKind } from "./bindings.js";
import { withScratchCell, type ScratchHost } from "./scratch.js";

/** A name a run body declared on the workers: how it was declared, and its type as TypeScript text (`any` when it has none that means something outside the body). */
export interface WorkerDeclaration {
  kind: BindingKind;
  type: string;
}

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

/**
 * The check context of a body: declarations of the names on the workers that the body uses and
 * does not declare itself (typed as `declared` says, `any` when it does not know them).
 */
export function workerNamesContext(body: string, onWorkers: Iterable<string>, declared: ReadonlyMap<string, WorkerDeclaration>): string | undefined {
  const own = new Set(declaredNames(parseCell(body)).map((n) => n.name));
  const words = wordsOf(body);
  const lines = [...onWorkers].filter((n) => words.has(n) && !own.has(n)).map((n) => declaration(n, declared.get(n) ?? { kind: "var", type: "any" }));
  return lines.length ? lines.join("\n") : undefined;
}

function declaration(name: string, d: WorkerDeclaration): string {
  const keyword = d.kind === "const" ? "const" : d.kind === "let" ? "let" : "var";
  return `declare ${keyword} ${name}: ${d.type};`;
}

/** Kinds of names that exist on the workers when a body that declares them has run. */
const RUNTIME_KINDS = new Set<BindingKind>(["const", "let", "var", "function", "class", "enum", "namespace", "import"]);
/** Kinds of names that can appear in a type. */
const TYPE_KINDS = new Set<BindingKind>(["type", "interface", "class", "enum", "namespace", "import"]);

/**
 * The names `body` declares on the workers, each with its type as the checker sees it (checked
 * like the next cell, with `checkContext`, as the body is compiled). A type that refers to a type
 * the body itself declares, or that does not check as a later cell's declaration, is `any`.
 */
export function runBodyDeclarations(host: ScratchHost, body: string, checkContext?: string): Map<string, WorkerDeclaration> {
  const declared = declaredNames(parseCell(body));
  const names = declared.filter((n) => !n.ambient && RUNTIME_KINDS.has(n.kind));
  const out = new Map<string, WorkerDeclaration>();
  if (names.length === 0) return out;
  const local = declared.filter((n) => TYPE_KINDS.has(n.kind)).map((n) => n.name);
  const types = withScratchCell(host, body, (file) => {
    const program = host.checker.languageService.getProgram();
    const sf = program?.getSourceFile(file.fileName);
    const found = new Map<string, string>();
    if (!program || !sf) return found;
    const checker = program.getTypeChecker();
    const wanted = new Set(names.map((n) => n.name));
    const note = (id: ts.Identifier) => {
      if (!wanted.has(id.text) || found.has(id.text)) return;
      found.set(id.text, checker.typeToString(checker.getTypeAtLocation(id), undefined, ts.TypeFormatFlags.NoTruncation));
    };
    for (const st of sf.statements) {
      if (st.getStart(sf) < file.headerLength) continue;
      forEachDeclaredIdentifier(st, note);
    }
    return found;
  }, undefined, { checkContext });
  const valid = typesThatCheck(host, names.map((n) => types.get(n.name)).filter((t): t is string => t !== undefined && !mentionsAny(t, local)));
  for (const n of names) {
    const type = types.get(n.name);
    out.set(n.name, { kind: n.kind, type: type !== undefined && valid.has(type) ? type : "any" });
  }
  return out;
}

/** The identifiers a top-level statement declares (variables, also destructured, functions, classes, enums, namespaces, imports). */
function forEachDeclaredIdentifier(st: ts.Statement, note: (id: ts.Identifier) => void): void {
  const binding = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) note(name);
    else for (const el of name.elements) if (ts.isBindingElement(el)) binding(el.name);
  };
  if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) binding(d.name);
  else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st)) && st.name) note(st.name);
  else if (ts.isModuleDeclaration(st) && ts.isIdentifier(st.name)) note(st.name);
  else if (ts.isImportDeclaration(st) && st.importClause) {
    const clause = st.importClause;
    if (clause.name) note(clause.name);
    const nb = clause.namedBindings;
    if (nb && ts.isNamespaceImport(nb)) note(nb.name);
    if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) note(el.name);
  }
}

function mentionsAny(type: string, names: readonly string[]): boolean {
  if (names.length === 0) return false;
  const words = wordsOf(type);
  return names.some((n) => words.has(n));
}

/** Those of `types` that check as declarations in a later cell (each names only what exists outside the body). */
function typesThatCheck(host: ScratchHost, types: string[]): Set<string> {
  const distinct = [...new Set(types)];
  if (distinct.length === 0) return new Set();
  const lines = distinct.map((t, i) => `declare var __tspool_worker_type_${i}: ${t};`);
  const context = lines.join("\n");
  const bad = withScratchCell(host, "", (file) => {
    const ls = host.checker.languageService;
    const at = file.text.indexOf(context);
    const failed = new Set<number>();
    for (const d of [...ls.getSyntacticDiagnostics(file.fileName), ...ls.getSemanticDiagnostics(file.fileName)]) {
      if (d.start === undefined || at < 0 || d.start < at) continue;
      failed.add(file.text.slice(at, d.start).split("\n").length - 1);
    }
    return failed;
  }, undefined, { checkContext: context });
  return new Set(distinct.filter((_, i) => !bad.has(i)));
}

/** The body's value type, or undefined when the body does not end with an expression (its value is `undefined`). */
export function runBodyValueType(host: ScratchHost, body: string, checkContext?: string): string | undefined {
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
