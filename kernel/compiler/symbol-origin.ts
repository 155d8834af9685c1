/**
 * What a name used in a cell stands for, when it reaches the cell from elsewhere: an import is
 * followed to what it imports, and an earlier cell's `let`/`var`, which the cell's header declares
 * again as `declare let n: typeof import("./__cell_3").n;` (see CellChecker.header), is followed
 * to that cell's declaration. Inspection shows that declaration, with its JSDoc.
 */
import ts from "./typescript.cjs";

export function originalSymbol(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  if (symbol.flags & ts.SymbolFlags.Alias) {
    const target = checker.getAliasedSymbol(symbol);
    // An import that resolves to nothing: the alias is all there is.
    return target.declarations?.length ? target : symbol;
  }
  const earlier = earlierCellVariable(symbol);
  if (earlier) {
    const target = checker.getSymbolAtLocation(earlier);
    if (target?.declarations?.length) return target.flags & ts.SymbolFlags.Alias ? originalSymbol(checker, target) : target;
  }
  return symbol;
}

/** For a header's `declare let n: typeof import("./__cell_3").n`, the `n` after the import. */
function earlierCellVariable(symbol: ts.Symbol): ts.Identifier | undefined {
  const decl = symbol.valueDeclaration;
  if (!decl || !ts.isVariableDeclaration(decl) || !decl.type || !ts.isImportTypeNode(decl.type) || !decl.type.isTypeOf) return undefined;
  const arg = decl.type.argument;
  if (!ts.isLiteralTypeNode(arg) || !ts.isStringLiteral(arg.literal) || !arg.literal.text.startsWith("./__cell_")) return undefined;
  const qualifier = decl.type.qualifier;
  return qualifier && ts.isIdentifier(qualifier) ? qualifier : undefined;
}

/** The node naming a declaration (where quick info about it is found), or the declaration itself. */
export function declarationName(decl: ts.Declaration): ts.Node {
  const name = ts.getNameOfDeclaration(decl);
  return name ?? decl;
}
