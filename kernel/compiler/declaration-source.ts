/**
 * The source of a symbol's declarations, with their JSDoc, for detailed inspection (detail_level
 * 1, IPython's `??`): every overload and merged declaration, as written in the cell that declared
 * it (not as its emitted declarations state it), or from the file that declares it (Node's and
 * packages' declarations, the notebook's own modules).
 */
import { relative, basename, sep } from "node:path";
import ts from "./typescript.cjs";
import { parseCell } from "./declarations.js";

export interface DeclarationSource {
  /** Where it is declared: "this cell", "cell [3]", "node_modules/@types/node/path.d.ts"... */
  where: string;
  text: string;
}

export interface SourceLookup {
  /** The file being inspected, and where the cell's own text starts in it. */
  fileName: string;
  headerLength: number;
  notebookDir: string;
  /** The text of the cell a kept cell module was made from (undefined for other files). */
  cellSource(fileName: string): string | undefined;
  /** How to name that cell ("cell [3]"). */
  cellLabel(fileName: string): string;
}

/** Lines of one declaration, and of all of them (`Array` has a declaration in each of a dozen library files). */
const MAX_LINES = 40;
const MAX_TOTAL_LINES = 120;

/** The declarations of a symbol, those from one place together (e.g. a function's overloads), in order. */
export function declarationSources(symbol: ts.Symbol, lookup: SourceLookup): { sources: DeclarationSource[]; omitted: number } {
  const byPlace = new Map<string, string[]>();
  let lines = 0;
  let omitted = 0;
  const add = (where: string, node: ts.Node, sf: ts.SourceFile) => {
    const text = snippet(node, sf);
    const texts = byPlace.get(where) ?? [];
    if (texts.includes(text)) return;
    byPlace.set(where, [...texts, text]);
    lines += text.split("\n").length;
  };
  for (const decl of symbol.declarations ?? []) {
    if (lines >= MAX_TOTAL_LINES) {
      omitted++;
      continue;
    }
    const sf = decl.getSourceFile();
    if (sf.fileName === lookup.fileName) {
      if (decl.getStart(sf) >= lookup.headerLength) add("this cell", decl, sf);
      continue;
    }
    const cellText = lookup.cellSource(sf.fileName);
    if (cellText !== undefined) {
      const cell = parseCell(cellText);
      const written = findByPath(cell, namePath(decl));
      for (const node of written.length ? written : [decl]) add(lookup.cellLabel(sf.fileName), node, written.length ? cell : sf);
      continue;
    }
    add(displayPath(sf.fileName, lookup.notebookDir), decl, sf);
  }
  return { sources: [...byPlace].map(([where, texts]) => ({ where, text: texts.join("\n") })), omitted };
}

/** The declaration's text from its JSDoc on, as the whole statement for a variable, at most MAX_LINES lines. */
function snippet(decl: ts.Node, sf: ts.SourceFile): string {
  let node = decl;
  while (ts.isBindingElement(node) || ts.isObjectBindingPattern(node) || ts.isArrayBindingPattern(node)) node = node.parent;
  if (ts.isVariableDeclaration(node) && ts.isVariableDeclarationList(node.parent) && ts.isVariableStatement(node.parent.parent)) node = node.parent.parent;
  const start = node.getStart(sf, true);
  const indent = sf.text.slice(sf.text.lastIndexOf("\n", start - 1) + 1, start);
  const lines = sf.text.slice(start, node.getEnd()).trimEnd().split("\n").map((l, i) => (i > 0 && l.startsWith(indent) && /^\s*$/.test(indent) ? l.slice(indent.length) : l));
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), "…"].join("\n") : lines.join("\n");
}

/** Names from the top of the file down to the declaration: ["Point", "norm"] for a method of class Point. */
function namePath(decl: ts.Node): string[] {
  const path: string[] = [];
  for (let node: ts.Node | undefined = decl; node && !ts.isSourceFile(node); node = node.parent) {
    if (ts.isVariableDeclarationList(node) || ts.isVariableStatement(node) || ts.isModuleBlock(node)) continue;
    const name = ts.getNameOfDeclaration(node as ts.Declaration);
    if (name && (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name))) path.unshift(name.text);
  }
  return path;
}

/** The declarations of a cell (top-level statements, then their members) that a name path leads to. */
function findByPath(sf: ts.SourceFile, path: string[]): ts.Node[] {
  let level: readonly ts.Node[] = sf.statements;
  let found: ts.Node[] = [];
  for (const name of path) {
    found = [];
    for (const node of level) for (const decl of declarationsIn(node)) if (nameOf(decl) === name) found.push(decl);
    if (!found.length) return [];
    level = found.flatMap(membersOf);
  }
  return found;
}

/** A statement as the declarations it holds (a variable statement holds one per name). */
function declarationsIn(node: ts.Node): ts.Node[] {
  if (ts.isVariableStatement(node)) return node.declarationList.declarations.flatMap(bindingsOf);
  return [node];
}

function bindingsOf(decl: ts.VariableDeclaration | ts.BindingElement): ts.Node[] {
  if (ts.isIdentifier(decl.name)) return [decl];
  return decl.name.elements.flatMap((el) => (ts.isBindingElement(el) ? bindingsOf(el) : []));
}

function nameOf(node: ts.Node): string | undefined {
  const name = ts.getNameOfDeclaration(node as ts.Declaration);
  return name && (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
}

function membersOf(node: ts.Node): readonly ts.Node[] {
  if (ts.isClassLike(node) || ts.isInterfaceDeclaration(node) || ts.isEnumDeclaration(node)) return node.members;
  if (ts.isModuleDeclaration(node) && node.body && ts.isModuleBlock(node.body)) return node.body.statements;
  return [];
}

/** A file as the user knows it: relative to the notebook, from its node_modules folder on, or the library's name. */
function displayPath(fileName: string, notebookDir: string): string {
  const inModules = fileName.lastIndexOf(`${sep}node_modules${sep}`);
  if (inModules >= 0) return fileName.slice(inModules + 1);
  const rel = relative(notebookDir, fileName);
  return rel.startsWith("..") ? basename(fileName) : rel;
}
