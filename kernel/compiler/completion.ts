/**
 * Completion at the cursor, from the TypeScript language service over the cell as the next
 * virtual module: members after `.`, locals, names of earlier cells, globals, imports, keywords
 * (in a `%%` cell magic, within its TypeScript body).
 */
import ts from "./typescript.cjs";
import { types } from "node:util";
import type { CompleteReplyContent } from "../executor/protocol.js";
import { withScratchCell, type ScratchHost, type ScratchTyping } from "./scratch.js";
import { typeScriptRegion } from "./magic-region.js";
import { identifierStart, replacementFor } from "./replacement-span.js";

export function complete(host: ScratchHost, cellCode: string, cellCursor: number): CompleteReplyContent {
  const region = typeScriptRegion(cellCode, cellCursor);
  if (!region) return { matches: [], cursor_start: cellCursor, cursor_end: cellCursor, metadata: {} };
  const reply = completeTypeScript(host, region.code, region.cursor, region.typing);
  return { ...reply, cursor_start: reply.cursor_start + region.offset, cursor_end: reply.cursor_end + region.offset };
}

/** How many matches get a kind and signature worked out from their symbols (the rest: from the entry kind). */
const DESCRIBED = 150;

interface JupyterType { type: string; signature?: string }

function completeTypeScript(host: ScratchHost, code: string, cursor: number, typing?: ScratchTyping): CompleteReplyContent {
  // The word being completed: earlier cells' names starting with it are brought into the scratch cell.
  const word = code.slice(identifierStart(code, cursor), cursor);
  const { matches, types, replacement } = withScratchCell(
    host,
    code,
    (file, at) => {
      const ls = host.checker.languageService;
      const found = ls.getCompletionsAtPosition(file.fileName, at(cursor), {
        includeCompletionsForModuleExports: false,
        includeCompletionsWithInsertText: true,
      });
      // Kinds and signatures come from the program this query ran on, before its scratch cell is dropped.
      const program = ls.getProgram();
      const sourceFile = program?.getSourceFile(file.fileName);
      if (!program || !sourceFile) return { matches: [], types: [], replacement: undefined };
      const replacement = replacementFor(code, cursor, sourceFile, at(cursor), found);
      const ranked = rank(replacement.entries, replacement.prefix);
      const memberAccess = /\.\s*$/.test(code.slice(0, replacement.start));
      const types = describeEntries(program.getTypeChecker(), sourceFile, at(replacement.start), memberAccess, ranked.map((m) => m.entry));
      return { matches: ranked.map((m) => m.text), types, replacement };
    },
    word,
    typing,
  );
  const start = replacement?.start ?? cursor;
  const names = [...matches];
  // Names the type checker cannot know: globals set at run time (e.g. `globalThis.x = ...`), and
  // members of values whose static type is `any`. Not inside a string, where only the language
  // service's entries (module names, literal types) apply.
  if (replacement && !replacement.inString) {
    const memberAccess = /\.\s*$/.test(code.slice(0, start));
    const seen = new Set(names);
    // Only when the type checker had nothing to offer after a dot.
    const extras = memberAccess && names.length ? [] : runtimeNames(code.slice(0, start), replacement.prefix);
    for (const extra of extras) if (!seen.has(extra)) {
      seen.add(extra);
      names.push(extra);
    }
  }
  return {
    matches: names,
    cursor_start: start,
    cursor_end: replacement?.end ?? cursor,
    // Kinds for frontends that show them (JupyterLab), one per match in order; without start/end,
    // which would be UTF-16 offsets here while the wire speaks code points.
    metadata: {
      _jupyter_types_experimental: names.map((name, i) => {
        const t: JupyterType = types[i] ?? { type: "variable" };
        return t.signature ? { text: name, type: t.type, signature: t.signature } : { text: name, type: t.type };
      }),
    },
  };
}

/** Entries starting with the prefix (case-insensitively), exact-case first, then TypeScript's order; each text once. */
function rank<T extends { entry: ts.CompletionEntry; text: string }>(entries: readonly T[], prefix: string): T[] {
  const lower = prefix.toLowerCase();
  const seen = new Set<string>();
  return entries
    .filter(({ entry: e }) => !e.name.startsWith("__tspool_") && !e.name.startsWith("__cell_") && e.name.toLowerCase().startsWith(lower))
    .sort(({ entry: a }, { entry: b }) => {
      const exactA = a.name.startsWith(prefix) ? 0 : 1;
      const exactB = b.name.startsWith(prefix) ? 0 : 1;
      return exactA - exactB || a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name);
    })
    .filter((m) => !seen.has(m.text) && seen.add(m.text));
}

/**
 * The Jupyter type of each entry and, for the first DESCRIBED ones, a one-line signature. Names
 * of earlier cells reach a cell as imports (aliases): their kind is that of what they stand for.
 * Symbols are looked up once: the names in scope at the top of the cell, or the members of the
 * expression before the dot.
 */
function describeEntries(checker: ts.TypeChecker, sf: ts.SourceFile, pos: number, memberAccess: boolean, entries: ts.CompletionEntry[]): JupyterType[] {
  let symbols: Map<string, ts.Symbol> | undefined;
  const lookup = (name: string): ts.Symbol | undefined => {
    if (!symbols) {
      symbols = new Map();
      const list = memberAccess ? membersBefore(checker, sf, pos) : checker.getSymbolsInScope(sf, ts.SymbolFlags.Value | ts.SymbolFlags.Type | ts.SymbolFlags.Namespace | ts.SymbolFlags.Alias);
      for (const s of list) if (!symbols.has(s.name)) symbols.set(s.name, s);
    }
    return symbols.get(name);
  };
  return entries.map((e, i) => {
    const plain: JupyterType = { type: kindName(e.kind) };
    if (i >= DESCRIBED || e.kind === ts.ScriptElementKind.keyword) return plain;
    try {
      let symbol = lookup(e.name);
      if (!symbol) return plain;
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      const type = e.kind === ts.ScriptElementKind.alias ? kindOfSymbol(symbol) ?? plain.type : plain.type;
      const signature = signatureOf(checker, symbol, e.name, type);
      return signature ? { type, signature } : { type };
    } catch {
      return plain;
    }
  });
}

/** Properties of the type of the expression that ends just before the `.` at `pos`. */
function membersBefore(checker: ts.TypeChecker, sf: ts.SourceFile, pos: number): ts.Symbol[] {
  const dot = sf.text.lastIndexOf(".", pos - 1);
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (node.getStart(sf) <= dot && dot < node.getEnd()) {
      if ((ts.isPropertyAccessExpression(node) || ts.isPropertyAccessChain(node)) && node.expression.getEnd() <= dot) found = node.expression;
      ts.forEachChild(node, visit);
    }
  };
  visit(sf);
  if (!found) return [];
  return checker.getTypeAtLocation(found).getApparentProperties();
}

function kindOfSymbol(s: ts.Symbol): string | undefined {
  const f = s.flags;
  if (f & ts.SymbolFlags.Class) return "class";
  if (f & ts.SymbolFlags.Function) return "function";
  if (f & ts.SymbolFlags.Enum) return "enum";
  // A namespace merged with a value (e.g. `import * as path from "node:path"`) is a module to the user.
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return "module";
  if (f & ts.SymbolFlags.Variable) return "variable";
  if (f & ts.SymbolFlags.Interface) return "interface";
  if (f & ts.SymbolFlags.TypeAlias) return "type";
  return undefined;
}

const MAX_SIGNATURE = 160;

/** `name(params): result` for what can be called, `name: type` for values, `class name` etc. */
function signatureOf(checker: ts.TypeChecker, s: ts.Symbol, name: string, kind: string): string | undefined {
  let text: string | undefined;
  if (kind === "class" || kind === "interface" || kind === "enum" || kind === "module" || kind === "type") {
    text = `${kind === "module" ? "namespace" : kind} ${name}`;
  } else if (s.flags & (ts.SymbolFlags.Value)) {
    const type = checker.getTypeOfSymbol(s);
    const calls = type.getCallSignatures();
    if ((kind === "function" || kind === "method") && calls.length) {
      text = `${name}${checker.signatureToString(calls[0]!)}`;
      if (calls.length > 1) text += ` (+${calls.length - 1} overload${calls.length > 2 ? "s" : ""})`;
    } else {
      text = `${name}: ${checker.typeToString(type)}`;
    }
  }
  if (!text) return undefined;
  return text.length > MAX_SIGNATURE ? `${text.slice(0, MAX_SIGNATURE - 1)}…` : text;
}

/** Names of earlier cells and imports are aliases (the cell's header imports them): what they stand for. */
function kindName(kind: ts.ScriptElementKind): string {
  switch (kind) {
    case ts.ScriptElementKind.functionElement:
    case ts.ScriptElementKind.localFunctionElement:
      return "function";
    case ts.ScriptElementKind.memberFunctionElement:
    case ts.ScriptElementKind.constructSignatureElement:
    case ts.ScriptElementKind.callSignatureElement:
      return "method";
    case ts.ScriptElementKind.classElement:
    case ts.ScriptElementKind.localClassElement:
      return "class";
    case ts.ScriptElementKind.keyword:
      return "keyword";
    case ts.ScriptElementKind.moduleElement:
    case ts.ScriptElementKind.externalModuleName:
    case ts.ScriptElementKind.alias:
      return "module";
    case ts.ScriptElementKind.interfaceElement:
      return "interface";
    case ts.ScriptElementKind.typeElement:
    case ts.ScriptElementKind.typeParameterElement:
      return "type";
    case ts.ScriptElementKind.enumElement:
      return "enum";
    case ts.ScriptElementKind.enumMemberElement:
    case ts.ScriptElementKind.memberVariableElement:
    case ts.ScriptElementKind.memberGetAccessorElement:
    case ts.ScriptElementKind.memberSetAccessorElement:
    case ts.ScriptElementKind.memberAccessorVariableElement:
      return "property";
    case ts.ScriptElementKind.parameterElement:
      return "param";
    default:
      return "variable";
  }
}

/**
 * Completions from the live session: after `a.b.` the own and inherited property names of that
 * value (only for plain dotted names), otherwise the global scope's names. Nothing of the user's
 * runs: members are read through their descriptors (a getter is not called: its value is not
 * known) and a proxy is not looked into (its traps would run), so Tab can neither hang nor end
 * the session.
 */
function runtimeNames(before: string, prefix: string): string[] {
  const chain = /((?:[\p{ID_Start}$_][\p{ID_Continue}$]*\s*\.\s*)*)$/u.exec(before)?.[1] ?? "";
  let target: unknown = globalThis;
  for (const part of chain.split(".").map((p) => p.trim()).filter(Boolean)) {
    const found = dataProperty(target, part);
    if (!found) return [];
    target = found.value;
  }
  if (target === null || target === undefined) return [];
  const out = new Set<string>();
  try {
    for (let o: object | null = Object(target); o && !types.isProxy(o) && (chain || o === globalThis); o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) {
        if (name.startsWith(prefix) && /^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(name) && !name.startsWith("__tspool")) out.add(name);
      }
      if (o === Object.prototype) break;
    }
  } catch {
    // an exotic object that cannot list its names: what was found so far
  }
  return [...out].sort();
}

/**
 * The value of the data property `name` of `value` (its own or inherited), without running any
 * code of the user's: undefined when there is none, when it is an accessor, or when a proxy is on
 * the way (or the value is null or undefined).
 */
function dataProperty(value: unknown, name: string): { value: unknown } | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    for (let o: object | null = Object(value); o; o = Object.getPrototypeOf(o)) {
      if (types.isProxy(o)) return undefined;
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (d) return "value" in d ? { value: d.value } : undefined;
    }
  } catch {
    // e.g. a module namespace's binding not initialised yet
  }
  return undefined;
}
