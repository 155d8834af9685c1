/**
 * Finds the names a cell declares at its top level, and what kind of binding each is, from the
 * cell's TypeScript syntax alone (no type checking). The checker uses this to leave a cell's own
 * names out of its import header, and the session records the result in the binding registry.
 */
import ts from "./typescript.cjs";
import type { BindingKind } from "./bindings.js";

export interface DeclaredName {
  name: string;
  kind: BindingKind;
  /** For imports: the module specifier and the imported name ('default', '*' or an export name). */
  from?: { specifier: string; imported: string };
  /** Declared with `declare` (or type-only): exists for the type checker, not at run time. */
  ambient?: boolean;
  /** The cell exports it itself (`export const x`, `export { x }`): the checker must not export it again. */
  exported?: boolean;
  /** A `let`/`var` the cell also declares as a type or namespace (`interface X {}` with `let X: X`). */
  alsoType?: boolean;
}

/** Kinds that give a name a type or namespace meaning only. */
function isTypeKind(kind: BindingKind): boolean {
  return kind === "interface" || kind === "type" || kind === "namespace";
}

function isVariableKind(kind: BindingKind): boolean {
  return kind === "let" || kind === "var";
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}

function namesOfBinding(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else
    for (const el of name.elements) {
      if (ts.isBindingElement(el)) namesOfBinding(el.name, out);
    }
}

/** Top-level declared names of a parsed cell, in source order, each name once (last kind wins). */
export function declaredNames(file: ts.SourceFile): DeclaredName[] {
  const found = new Map<string, DeclaredName>();
  const add = (d: DeclaredName) => {
    const prev = found.get(d.name);
    // A value declaration merging with an interface/namespace keeps the value's kind.
    if (prev && isTypeKind(d.kind) && !isTypeKind(prev.kind)) {
      if (isVariableKind(prev.kind)) prev.alsoType = true;
      return;
    }
    if (prev && isVariableKind(d.kind) && (isTypeKind(prev.kind) || prev.alsoType)) d.alsoType = true;
    found.delete(d.name);
    found.set(d.name, d);
  };
  for (const st of file.statements) {
    const ambient = hasModifier(st, ts.SyntaxKind.DeclareKeyword);
    const exported = hasModifier(st, ts.SyntaxKind.ExportKeyword) || undefined;
    if (ts.isVariableStatement(st)) {
      const scoped = st.declarationList.flags & ts.NodeFlags.BlockScoped;
      if (scoped === ts.NodeFlags.Using || scoped === ts.NodeFlags.AwaitUsing) continue; // disposed at the end of the cell
      const kind: BindingKind = scoped === ts.NodeFlags.Const ? "const" : scoped === ts.NodeFlags.Let ? "let" : "var";
      for (const d of st.declarationList.declarations) {
        const names: string[] = [];
        namesOfBinding(d.name, names);
        for (const name of names) add({ name, kind, ambient, exported });
      }
    } else if (ts.isFunctionDeclaration(st) && st.name) {
      add({ name: st.name.text, kind: "function", ambient, exported });
    } else if (ts.isClassDeclaration(st) && st.name) {
      add({ name: st.name.text, kind: "class", ambient, exported });
    } else if (ts.isEnumDeclaration(st)) {
      add({ name: st.name.text, kind: "enum", ambient, exported });
    } else if (ts.isInterfaceDeclaration(st)) {
      add({ name: st.name.text, kind: "interface", ambient: true, exported });
    } else if (ts.isTypeAliasDeclaration(st)) {
      add({ name: st.name.text, kind: "type", ambient: true, exported });
    } else if (ts.isModuleDeclaration(st) && ts.isIdentifier(st.name) && !(st.flags & ts.NodeFlags.GlobalAugmentation)) {
      add({ name: st.name.text, kind: "namespace", ambient, exported });
    } else if (ts.isImportDeclaration(st) && st.importClause && ts.isStringLiteral(st.moduleSpecifier)) {
      const specifier = st.moduleSpecifier.text;
      const clause = st.importClause;
      const typeOnly = clause.isTypeOnly;
      if (clause.name) add({ name: clause.name.text, kind: "import", from: { specifier, imported: "default" }, ambient: typeOnly });
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) add({ name: nb.name.text, kind: "import", from: { specifier, imported: "*" }, ambient: typeOnly });
      if (nb && ts.isNamedImports(nb))
        for (const el of nb.elements) {
          const imported = (el.propertyName ?? el.name).text;
          add({ name: el.name.text, kind: "import", from: { specifier, imported }, ambient: typeOnly || el.isTypeOnly });
        }
    } else if (ts.isImportEqualsDeclaration(st)) {
      add({ name: st.name.text, kind: "import", ambient: st.isTypeOnly });
    }
  }
  for (const name of exportedUnderOwnName(file)) {
    const d = found.get(name);
    if (d) d.exported = true;
  }
  return [...found.values()];
}

/** Names a cell exports as themselves with `export { x }` (not `export { x as y }`, which exports another name). */
function exportedUnderOwnName(file: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const st of file.statements)
    if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause))
      for (const el of st.exportClause.elements) if (!el.propertyName || el.propertyName.text === el.name.text) out.push(el.name.text);
  return out;
}

export function parseCell(source: string, fileName = "cell.ts"): ts.SourceFile {
  return ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}
