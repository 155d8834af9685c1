/**
 * Turns a cell's TypeScript into a script that runs in the session's global scope.
 *
 * The cell is transpiled on its own (`ts.transpileModule`, ES2022, with a source map, imports
 * kept verbatim so an import only used by a later cell still happens), then the JS text is
 * edited in place, keeping every statement on its line so the source map still applies:
 *   import a, { b as c } from "m"  ->  { const __tspool_m = await import("<resolved URL>"); a = ...; c = ...; }
 *   const/let/var pattern = init   ->  void (pattern = init)          (names hoisted as script `var`s)
 *   class A {}                     ->  A = class A {};                 (A hoisted)
 *   function f() {}                   stays a declaration; `globalThis.f = f` runs first
 *   export ...                        stripped
 *   last expression statement      ->  return [expr];
 * and the whole is wrapped as `var <hoisted>; (async () => { "use strict"; ... \n})()` with the
 * prefix on the first line, so top-level await works and declarations persist as globals.
 * Import specifiers are resolved when the cell is compiled (by the caller's `resolve`), so the
 * script imports absolute URLs and needs a dynamic-import loader (vm's main-context loader).
 *
 * Worker mode (for code shipped to pool workers): the same, but the completion value of the
 * script is the last expression's value itself when the code needs no `await`/imports (then
 * there is no wrapper), else a Promise of it.
 */
import ts from "./typescript.cjs";
import { decodeMappings, type LineMappings } from "./source-map.js";

export interface CellImport {
  name: string;
  specifier: string;
  imported: string; // 'default' | '*' | an export name
}

export interface CellScript {
  code: string;
  /** Source map of the transpiled JS (before the edits). */
  map: LineMappings;
  /** Per line of `code`: [column in code, column in the transpiled JS] where unedited text starts. */
  columns: ColumnAnchors;
  /** Names that become globals of the session. */
  hoisted: string[];
  /** Standalone JS expressions of declared functions, classes, enums and namespaces. */
  declarations: Map<string, string>;
  imports: CellImport[];
  /** Whether the script resolves to `[value]` (the cell ends with an expression). */
  hasResult: boolean;
  /** Whether the code is inside an async wrapper whose invocation is the script's last line. */
  wrapped: boolean;
}

interface Edit { start: number; end: number; text: string; seq?: number }

export type ColumnAnchors = Array<Array<[number, number]>>;

/**
 * Apply non-overlapping edits (insertions at one place keep their order) and record, for each
 * line, where each stretch of unedited text starts in the result and in the original, so a
 * column of the result can be traced back. Edits never change which line text is on.
 */
function applyEdits(js: string, edits: Edit[]): { text: string; columns: ColumnAnchors } {
  edits.forEach((e, i) => (e.seq = i));
  edits.sort((a, b) => a.start - b.start || a.seq! - b.seq!);
  const parts: string[] = [];
  const columns: ColumnAnchors = [];
  let line = 0;
  let outCol = 0;
  let origCol = 0;
  const push = (text: string, original: boolean) => {
    const pieces = text.split("\n");
    pieces.forEach((piece, i) => {
      if (i > 0) {
        line++;
        outCol = 0;
        origCol = 0;
      }
      if (original) (columns[line] ??= []).push([outCol, origCol]);
      outCol += piece.length;
      if (original) origCol += piece.length;
    });
    parts.push(text);
  };
  let at = 0;
  for (const e of edits) {
    if (e.start > at) push(js.slice(at, e.start), true);
    // The replaced original text still counts toward original columns.
    const removed = js.slice(Math.max(at, e.start), e.end);
    push(e.text, false);
    const lastNl = removed.lastIndexOf("\n");
    origCol = lastNl >= 0 ? removed.length - lastNl - 1 : origCol + removed.length;
    at = Math.max(at, e.end);
  }
  if (at < js.length) push(js.slice(at), true);
  return { text: parts.join(""), columns };
}

/** The transpiled-JS column of a column of the edited code (0-based). */
export function originalColumn(columns: ColumnAnchors, line: number, column: number): number {
  const anchors = columns[line];
  if (!anchors?.length) return column;
  let best: [number, number] | undefined;
  for (const a of anchors) if (a[0] <= column) best = a;
  if (!best) return anchors[0]![1];
  return best[1] + (column - best[0]);
}

/** Global the executor defines: module specifier -> URL, as for static imports (unknown ones pass through). */
export const RESOLVE_GLOBAL = "__tspool_resolve";

export interface CellScriptOptions {
  /** Module specifier -> URL (or builtin name) that `import()` loads. Throws for unknown modules. */
  resolve(specifier: string): string;
  mode?: "cell" | "worker";
}

/** Namespace of a module as `import * as` gives it (CommonJS exports folded in). */
const NAMESPACE = (m: string) =>
  `(${m}.default && (typeof ${m}.default === "object" || typeof ${m}.default === "function") && Object.keys(${m}).every((k) => k === "default" || ${m}[k] === ${m}.default[k]) ? Object.assign(Object.create(null), ${m}.default, ${m}) : ${m})`;
/** A named import, also from a CommonJS module whose exports Node could not list statically. */
const NAMED = (m: string, name: string) => `(${name} in ${m} ? ${m}[${name}] : ${m}.default?.[${name}])`;

function newlines(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function stripModifiers(node: ts.Node, edits: Edit[]): void {
  if (!ts.canHaveModifiers(node)) return;
  for (const m of ts.getModifiers(node) ?? []) {
    if (m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword)
      edits.push({ start: m.getStart(), end: m.getEnd(), text: "" });
  }
}

/** Text of a declaration without `export`/`default` modifiers. */
function declarationText(node: ts.Node, js: string): string {
  let start = node.getStart();
  if (ts.canHaveModifiers(node))
    for (const m of ts.getModifiers(node) ?? []) {
      if (m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword) start = m.getEnd();
      else break;
    }
  return js.slice(start, node.getEnd()).trim();
}

function bindingNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else for (const el of name.elements) if (ts.isBindingElement(el)) bindingNames(el.name, out);
}

/** `var E; (function (E) {...})(E || (E = {}));` — what TypeScript emits for enums and namespaces. */
function isEnumOrNamespaceIife(st: ts.Statement | undefined, name: string): st is ts.ExpressionStatement {
  if (!st || !ts.isExpressionStatement(st) || !ts.isCallExpression(st.expression)) return false;
  const arg = st.expression.arguments[0];
  return !!arg && ts.isBinaryExpression(arg) && ts.isIdentifier(arg.left) && arg.left.text === name;
}

/** An enum's or namespace's code as an expression: the IIFE TypeScript lowers it to, in a function that gives it back. */
function enumOrNamespaceDeclaration(name: string, iife: string): string {
  return `(() => { var ${name}; ${iife} return ${name}; })()`;
}

/**
 * The part of a declaration's code (CellScript.declarations) that is in the cell's script as it
 * is: an enum's or namespace's IIFE (without its `;`: as the cell's last statement it is the
 * script's completion value); a function's or class's whole code.
 */
export function declarationInScript(name: string, js: string): string {
  const [before, after] = enumOrNamespaceDeclaration(name, "\0").split("\0") as [string, string];
  if (!js.startsWith(before) || !js.endsWith(after)) return js;
  return js.slice(before.length, js.length - after.length).replace(/;$/, "");
}

export function transpileCell(source: string): { js: string; map: LineMappings } {
  const out = ts.transpileModule(source, {
    fileName: "cell.ts",
    reportDiagnostics: false,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: true,
      verbatimModuleSyntax: true,
      esModuleInterop: true,
      useDefineForClassFields: true,
    },
  });
  const js = out.outputText.replace(/\n?\/\/# sourceMappingURL=.*\s*$/, "\n");
  const map = decodeMappings((JSON.parse(out.sourceMapText ?? "{}") as { mappings?: string }).mappings ?? "");
  return { js, map };
}

export function toCellScript(source: string, opts: CellScriptOptions): CellScript {
  const worker = opts.mode === "worker";
  const { js, map } = transpileCell(source);
  const sf = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: Edit[] = [];
  const hoisted = new Set<string>();
  const functions: string[] = [];
  const declarations = new Map<string, string>();
  const imports: CellImport[] = [];
  const replaceKeepingLines = (node: ts.Node, text: string) => {
    const original = js.slice(node.getStart(), node.getEnd());
    edits.push({ start: node.getStart(), end: node.getEnd(), text: text + "\n".repeat(Math.max(0, newlines(original) - newlines(text))) });
  };

  const statements = sf.statements;
  let last: ts.Statement | undefined;
  let usesAwait = worker && hasTopLevelAwait(sf);
  statements.forEach((st, i) => {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const url = opts.resolve(st.moduleSpecifier.text);
      // JSON modules need their import attribute; other attributes written in the cell are kept.
      const attributes = st.attributes ? `, { with: { ${st.attributes.elements.map((e) => e.getText()).join(", ")} } }` : /\.json$/.test(url.replace(/[?#].*$/, "")) ? `, { with: { type: "json" } }` : "";
      const spec = `${JSON.stringify(url)}${attributes}`;
      usesAwait = true;
      const clause = st.importClause;
      if (!clause) {
        replaceKeepingLines(st, `await import(${spec});`);
        return;
      }
      const assigns: string[] = [];
      const add = (name: string, imported: string, expr: string) => {
        hoisted.add(name);
        imports.push({ name, specifier: st.moduleSpecifier.getText().slice(1, -1), imported });
        assigns.push(`${name} = ${expr};`);
      };
      if (clause.name) add(clause.name.text, "default", `__tspool_m.default`);
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) add(nb.name.text, "*", NAMESPACE("__tspool_m"));
      if (nb && ts.isNamedImports(nb))
        for (const el of nb.elements) {
          const imported = (el.propertyName ?? el.name).text;
          add(el.name.text, imported, NAMED("__tspool_m", JSON.stringify(imported)));
        }
      replaceKeepingLines(st, `{ const __tspool_m = await import(${spec}); ${assigns.join(" ")} }`);
      return;
    }
    if (ts.isVariableStatement(st)) {
      const list = st.declarationList;
      const scoped = list.flags & ts.NodeFlags.BlockScoped;
      if (scoped === ts.NodeFlags.Using || scoped === ts.NodeFlags.AwaitUsing) {
        last = st;
        return;
      }
      const isVar = scoped === 0;
      const decls = list.declarations;
      edits.push({ start: st.getStart(), end: decls[0]!.getStart(), text: "void (" });
      for (const d of decls) {
        const names: string[] = [];
        bindingNames(d.name, names);
        names.forEach((n) => hoisted.add(n));
        if (!d.initializer) {
          if (isVar) edits.push({ start: d.name.getStart(), end: d.name.getEnd(), text: "undefined" });
          else edits.push({ start: d.name.getEnd(), end: d.name.getEnd(), text: " = undefined" });
        }
      }
      const end = st.getEnd();
      const close = js[end - 1] === ";" ? end - 1 : end;
      edits.push({ start: close, end: close, text: ")" });
      // A class TypeScript lowered (decorators): `let C = (() => { ... return class C {...}; })()`.
      const init = decls.length === 1 && ts.isIdentifier(decls[0]!.name) ? decls[0]!.initializer : undefined;
      if (init && isArrowIife(init)) declarations.set((decls[0]!.name as ts.Identifier).text, init.getText());
      if (isVar && decls.length === 1 && !decls[0]!.initializer && ts.isIdentifier(decls[0]!.name)) {
        const name = decls[0]!.name.text;
        const next = statements[i + 1];
        if (isEnumOrNamespaceIife(next, name))
          declarations.set(name, enumOrNamespaceDeclaration(name, next.getText()));
      }
      last = st;
      return;
    }
    if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && !st.name) {
      // `export default function () {}`: without its name it can only be an expression here.
      stripModifiers(st, edits);
      edits.push({ start: st.getStart(), end: st.getStart(), text: "void " });
      last = st;
      return;
    }
    if (ts.isFunctionDeclaration(st) && st.name && st.body) {
      stripModifiers(st, edits);
      functions.push(st.name.text);
      declarations.set(st.name.text, declarationText(st, js));
      last = st;
      return;
    }
    if (ts.isClassDeclaration(st)) {
      stripModifiers(st, edits);
      if (st.name) {
        const classKeyword = st.getChildren().find((c) => c.kind === ts.SyntaxKind.ClassKeyword);
        const at = classKeyword ? classKeyword.getStart() : st.getStart();
        edits.push({ start: at, end: at, text: `${st.name.text} = ` });
        edits.push({ start: st.getEnd(), end: st.getEnd(), text: ";" });
        hoisted.add(st.name.text);
        declarations.set(st.name.text, declarationText(st, js));
      }
      last = st;
      return;
    }
    if (ts.isExportDeclaration(st)) {
      replaceKeepingLines(st, "");
      return;
    }
    if (ts.isExportAssignment(st)) {
      edits.push({ start: st.getStart(), end: st.expression.getStart(), text: "" });
      last = st;
      return;
    }
    if (!ts.isEmptyStatement(st)) last = st;
  });

  // `import(x)` written in a cell resolves like a static import (notebook first, then the kernel's install).
  if (!worker) {
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length) {
        const arg = node.arguments[0]!;
        edits.push({ start: arg.getStart(), end: arg.getStart(), text: `${RESOLVE_GLOBAL}(` });
        edits.push({ start: arg.getEnd(), end: arg.getEnd(), text: ")" });
      }
      ts.forEachChild(node, visit);
    };
    sf.statements.forEach(visit);
  }

  const wrapped = !worker || usesAwait;
  // A cell with top-level `using` runs inside the try block TypeScript wraps it in: its last
  // expression is the block's last statement, returned from inside the try so that it is
  // evaluated before the resources are disposed (as `finally` runs after it).
  // (Declarations in that block are assignments by then: whether the cell ends with an
  // expression is read from the cell's own text.)
  if (last && isDisposalLowering(last, statements)) last = endsWithExpression(source) ? lastStatement(last.tryBlock.statements) : undefined;
  let hasResult = false;
  if (last && (ts.isExpressionStatement(last) || ts.isExportAssignment(last))) {
    const expr = last.expression;
    hasResult = true;
    if (wrapped) {
      edits.push({ start: expr.getStart(), end: expr.getStart(), text: worker ? "return (" : "return [" });
      edits.push({ start: expr.getEnd(), end: expr.getEnd(), text: worker ? ")" : "]" });
    }
  }

  const vars = hoisted.size ? `var ${[...hoisted].join(", ")}; ` : "";
  const exposeFunctions = functions.map((f) => `globalThis.${f} = ${f}; `).join("");
  const prefix = wrapped ? `${vars}(async () => { "use strict"; ${exposeFunctions}` : `${vars}${exposeFunctions}`;
  edits.unshift({ start: 0, end: 0, text: prefix });
  const { text: body, columns } = applyEdits(js, edits);
  const code = wrapped ? `${body.replace(/\s+$/, "")}\n})()` : body;
  return {
    code,
    map,
    columns,
    hoisted: [...hoisted, ...functions],
    declarations,
    imports,
    hasResult,
    wrapped,
  };
}

/** `(() => { ... })()`: how TypeScript wraps a class it has to lower (decorators). */
function isArrowIife(e: ts.Expression): boolean {
  return ts.isCallExpression(e) && e.arguments.length === 0 && ts.isParenthesizedExpression(e.expression) &&
    ts.isArrowFunction(e.expression.expression) && e.expression.expression.parameters.length === 0;
}

/**
 * Whether a statement is how TypeScript lowers top-level `using` declarations:
 *   const env_1 = { stack: [], error: void 0, hasError: false };
 *   try { ...the rest of the cell... } catch (e_1) { ... } finally { ... __disposeResources(env_1) ... }
 */
function isDisposalLowering(st: ts.Statement, statements: readonly ts.Statement[]): st is ts.TryStatement {
  if (!ts.isTryStatement(st) || !st.finallyBlock) return false;
  const before = statements[statements.indexOf(st) - 1];
  const env = before && ts.isVariableStatement(before) ? before.declarationList.declarations[0]?.name : undefined;
  if (!env || !ts.isIdentifier(env) || !/^env_\d+$/.test(env.text)) return false;
  let disposes = false;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "__disposeResources") {
      const arg = node.arguments[0];
      if (arg && ts.isIdentifier(arg) && arg.text === env.text) disposes = true;
    }
    if (!disposes) ts.forEachChild(node, visit);
  };
  visit(st.finallyBlock);
  return disposes;
}

function lastStatement(statements: readonly ts.Statement[]): ts.Statement | undefined {
  return statements.filter((st) => !ts.isEmptyStatement(st)).at(-1);
}

function endsWithExpression(source: string): boolean {
  const last = lastStatement(ts.createSourceFile("cell.ts", source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS).statements);
  return !!last && ts.isExpressionStatement(last);
}

/** Whether a top-level statement awaits (outside nested functions). */
function hasTopLevelAwait(sf: ts.SourceFile): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) {
      found = true;
      return;
    }
    if (ts.isVariableDeclarationList(node) && (node.flags & ts.NodeFlags.BlockScoped) === ts.NodeFlags.AwaitUsing) {
      found = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  sf.statements.forEach(visit);
  return found;
}
