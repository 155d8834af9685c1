/**
 * Inspection (shift-tab): the type signature of the name at the cursor (or of the call the
 * cursor is in) and its JSDoc; at detail level 1 (IPython's `??`) also every JSDoc tag and the
 * source of its declarations. A name that is not declared anywhere is not found.
 */
import ts from "./typescript.cjs";
import type { InspectReplyContent } from "../executor/protocol.js";
import type { CellFile } from "./checker.js";
import { withScratchCell, type ScratchHost } from "./scratch.js";
import { typeScriptRegion } from "./magic-region.js";
import { declarationName, originalSymbol } from "./symbol-origin.js";
import { declarationSources, type DeclarationSource } from "./declaration-source.js";

const NOT_FOUND: InspectReplyContent = { found: false, data: {}, metadata: {} };
/** Tags shown at detail level 0 (all of them at level 1). */
const BRIEF_TAGS = 4;

interface Description {
  info: ts.QuickInfo;
  sources: DeclarationSource[];
  /** Declarations left out of `sources` (there were too many). */
  omitted: number;
}

export function inspect(host: ScratchHost, cellCode: string, cellCursor: number, detailLevel: 0 | 1): InspectReplyContent {
  const region = typeScriptRegion(cellCode, cellCursor);
  if (!region) return NOT_FOUND;
  const described = withScratchCell(host, region.code, (file, position) => describe(host, file, position(region.cursor), detailLevel), undefined, region.typing);
  return described ? reply(described, detailLevel) : NOT_FOUND;
}

function describe(host: ScratchHost, file: CellFile, at: number, detailLevel: 0 | 1): Description | undefined {
  const ls = host.checker.languageService;
  const program = ls.getProgram();
  const sf = program?.getSourceFile(file.fileName);
  if (!program || !sf) return undefined;
  const checker = program.getTypeChecker();
  const name = nameAt(sf, at) ?? calleeAround(sf, at);
  if (!name) {
    // Not a name (a keyword, a module specifier...): what the language service says about it.
    const info = ls.getQuickInfoAtPosition(file.fileName, at) ?? (at > file.headerLength ? ls.getQuickInfoAtPosition(file.fileName, at - 1) : undefined);
    return info ? { info, sources: [], omitted: 0 } : undefined;
  }
  const located = checker.getSymbolAtLocation(name);
  const symbol = located ?? typeNamed(checker, name);
  if (!symbol) return undefined; // declared nowhere
  const target = originalSymbol(checker, symbol);
  const here = located ? ls.getQuickInfoAtPosition(file.fileName, name.getStart(sf)) : undefined;
  // An earlier cell's name (or an import, or a type named in an expression) is described where it is declared.
  const there = target !== symbol || !here ? quickInfoOfDeclaration(ls, target) : undefined;
  const info = there && here
    ? { ...there, documentation: there.documentation?.length ? there.documentation : here.documentation, tags: there.tags?.length ? there.tags : here.tags }
    : there ?? here;
  if (!info) return undefined;
  const { sources, omitted } = detailLevel > 0
    ? declarationSources(target, {
        fileName: file.fileName,
        headerLength: file.headerLength,
        notebookDir: host.checker.notebookDir,
        cellSource: (f) => host.checker.cellSource(f),
        cellLabel: (f) => cellLabel(host, f),
      })
    : { sources: [], omitted: 0 };
  return { info, sources, omitted };
}

/** The identifier the cursor is in or just after. */
function nameAt(sf: ts.SourceFile, at: number): ts.Identifier | ts.PrivateIdentifier | undefined {
  let found: ts.Identifier | ts.PrivateIdentifier | undefined;
  const visit = (node: ts.Node): void => {
    if (node.getStart(sf) > at || node.getEnd() < at) return;
    if ((ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) && node.getStart(sf) <= at) found = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/**
 * In the arguments of a call, or just after one (`f(1, |`, `f(1)|`): the name of what is called.
 * (A call still being typed ends at its last argument: the spaces after it count as inside.)
 */
function calleeAround(sf: ts.SourceFile, at: number): ts.Identifier | ts.PrivateIdentifier | undefined {
  let callee: ts.Expression | undefined;
  const visit = (node: ts.Node): void => {
    let end = node.getEnd();
    while (end < at && /\s/.test(sf.text[end]!)) end++;
    if (node.getStart(sf) > at || end < at) return;
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.expression.getEnd() < at) callee = node.expression;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (!callee) return undefined;
  if (ts.isIdentifier(callee)) return callee;
  if (ts.isPropertyAccessExpression(callee)) return callee.name;
  return undefined;
}

/** A type (interface, alias, enum, namespace...) of that name, for a type named where a value is expected. */
function typeNamed(checker: ts.TypeChecker, name: ts.Identifier | ts.PrivateIdentifier): ts.Symbol | undefined {
  if (!ts.isIdentifier(name)) return undefined;
  const parent = name.parent;
  if ((ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && name !== (ts.isPropertyAccessExpression(parent) ? parent.expression : parent.left)) return undefined; // a member
  const meanings = ts.SymbolFlags.Type | ts.SymbolFlags.Namespace | ts.SymbolFlags.Alias;
  return checker.getSymbolsInScope(name, meanings).find((s) => s.name === name.text);
}

function quickInfoOfDeclaration(ls: ts.LanguageService, symbol: ts.Symbol): ts.QuickInfo | undefined {
  const decl = symbol.declarations?.[0];
  if (!decl || ts.isSourceFile(decl)) return undefined; // a module file: the name's own quick info says "import x"
  const sf = decl.getSourceFile();
  return ls.getQuickInfoAtPosition(sf.fileName, declarationName(decl).getStart(sf));
}

/** "cell [3]" for a kept cell's module file: the cell whose run defined the names it provides. */
function cellLabel(host: ScratchHost, fileName: string): string {
  const module = `./${fileName.slice(fileName.lastIndexOf("/") + 1).replace(/(?:\.d)?\.ts$/, "")}`;
  const binding = host.bindings.all().find((b) => host.bindings.moduleOf(b.name) === module);
  return binding ? `cell [${binding.cell}]` : "an earlier cell";
}

function reply({ info, sources, omitted }: Description, detailLevel: 0 | 1): InspectReplyContent {
  const signature = ts.displayPartsToString(info.displayParts);
  const docs = ts.displayPartsToString(info.documentation);
  const tags = (info.tags ?? []).map((t) => `@${t.name}${t.text ? ` ${ts.displayPartsToString(t.text)}` : ""}`);
  const docText = [docs, ...(detailLevel > 0 || tags.length <= BRIEF_TAGS ? tags : [])].filter(Boolean).join("\n");
  const more = omitted ? `(${omitted} more declaration${omitted > 1 ? "s" : ""} not shown)` : "";
  const plain = [signature, docText, ...sources.map((s) => `Source (${s.where}):\n${s.text}`), more];
  const markdown = ["```typescript\n" + signature + "\n```", docText, ...sources.map((s) => `Source (${s.where}):\n\n` + "```typescript\n" + s.text + "\n```"), more];
  return {
    found: true,
    data: { "text/plain": plain.filter(Boolean).join("\n\n"), "text/markdown": markdown.filter(Boolean).join("\n\n") },
    metadata: {},
  };
}
