/**
 * Free identifiers of a piece of JavaScript: the names it reads from an enclosing (global) scope.
 * Uses TypeScript's parser and a two-pass scope analysis: first every declaration is attached to
 * the scope it belongs to (var and parameters to functions, let/const/class/function declarations
 * to blocks, catch variables to their clause, a named function or class expression's name to
 * itself), then every identifier in a reading position is resolved up the chain of scopes.
 * Property names (`a.b`, `{ b: 1 }`, methods, class fields), labels and `new.target` are not
 * references; shorthand properties (`{ b }`) and computed names (`{ [b]: 1 }`) are.
 */
import ts from "../kernel/compiler/typescript.cjs";

/** Parses `source` as a script; a lone function/class/arrow expression is accepted too. */
export function parseScript(source: string): ts.SourceFile | undefined {
  for (const text of [source, `(${source}\n)`]) {
    const sf = ts.createSourceFile("capture.js", text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    const diagnostics = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
    if (diagnostics.length === 0) return sf;
  }
  return undefined;
}

function isFunctionScope(node: ts.Node): boolean {
  return ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) || ts.isClassStaticBlockDeclaration(node);
}

function isBlockScope(node: ts.Node): boolean {
  return ts.isSourceFile(node) || ts.isBlock(node) || ts.isForStatement(node) || ts.isForInStatement(node) ||
    ts.isForOfStatement(node) || ts.isCaseBlock(node) || ts.isCatchClause(node) || ts.isModuleBlock(node) ||
    isFunctionScope(node);
}

function nearest(node: ts.Node, test: (n: ts.Node) => boolean): ts.Node {
  let n: ts.Node | undefined = node;
  while (n && !test(n)) n = n.parent;
  return n ?? node.getSourceFile();
}

function bindingNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) {
    out.push(name.text);
    return;
  }
  for (const el of name.elements) {
    if (ts.isOmittedExpression(el)) continue;
    bindingNames(el.name, out);
  }
}

/** True when this Identifier node reads a variable (rather than naming a property, label, or declaration). */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (!p) return true;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) ||
       ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p) || ts.isEnumMember(p) ||
       ts.isPropertySignature(p) || ts.isMethodSignature(p)) && p.name === id) return false;
  if (ts.isBindingElement(p) && p.propertyName === id) return false;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p) || ts.isFunctionDeclaration(p) ||
       ts.isFunctionExpression(p) || ts.isClassDeclaration(p) || ts.isClassExpression(p) ||
       ts.isEnumDeclaration(p) || ts.isModuleDeclaration(p)) && p.name === id) return false;
  if ((ts.isLabeledStatement(p) || ts.isBreakStatement(p) || ts.isContinueStatement(p)) && p.label === id) return false;
  if (ts.isMetaProperty(p)) return false;
  if (ts.isImportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p) || ts.isExportSpecifier(p)) return false;
  if (ts.isJsxAttribute(p)) return false;
  return true;
}

/** The free identifiers of a source, and the modules it imports with `import()`. */
interface FreeNames { names: string[]; imports: string[] }

/**
 * The free identifiers of `source` in order of first use (stable across runs of the same source).
 * `arguments` is never free. Returns undefined when the source does not parse.
 */
export function freeIdentifiers(source: string): string[] | undefined {
  const found = analyse(source);
  return found && [...found.names];
}

/**
 * The module specifiers `source` loads with `import("...")` written as a string, also when the
 * string goes through a resolving function first (`import(resolve("./x.ts"))`, as the kernel
 * compiles a cell's `import()`). Specifiers computed at run time are not known here.
 */
export function dynamicImports(source: string): readonly string[] {
  return analyse(source)?.imports ?? [];
}

function analyse(source: string): FreeNames | undefined {
  const cached = cache.get(source);
  if (cached !== undefined) return cached ?? undefined;
  const found = computeFreeIdentifiers(source);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(source, found ?? null);
  return found;
}

// Sources analysed lately (the same function is often shipped again and again, e.g. pool.apply in a loop).
const CACHE_LIMIT = 256;
const cache = new Map<string, FreeNames | null>();

function computeFreeIdentifiers(source: string): FreeNames | undefined {
  const sf = parseScript(source);
  if (!sf) return undefined;
  const declared = new Map<ts.Node, Set<string>>();
  const declare = (scope: ts.Node, names: string[]) => {
    let set = declared.get(scope);
    if (!set) declared.set(scope, (set = new Set()));
    for (const n of names) set.add(n);
  };

  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node)) {
      const names: string[] = [];
      bindingNames(node.name, names);
      if (ts.isCatchClause(node.parent)) declare(node.parent, names);
      else {
        const list = node.parent;
        const blockScoped = ts.isVariableDeclarationList(list) && (list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) !== 0;
        declare(nearest(list.parent ?? list, blockScoped ? isBlockScope : (n) => isFunctionScope(n) || ts.isSourceFile(n)), names);
      }
    } else if (ts.isParameter(node)) {
      const names: string[] = [];
      bindingNames(node.name, names);
      declare(node.parent, names);
    } else if (ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isEnumDeclaration(node)) {
      if (node.name) declare(nearest(node.parent, isBlockScope), [node.name.text]);
    } else if (ts.isFunctionExpression(node) || ts.isClassExpression(node)) {
      if (node.name) declare(node, [node.name.text]);
    } else if (ts.isClassLike(node) && node.name) {
      declare(node, [node.name.text]);
    } else if (ts.isImportDeclaration(node) && node.importClause) {
      const c = node.importClause;
      const names: string[] = [];
      if (c.name) names.push(c.name.text);
      if (c.namedBindings) {
        if (ts.isNamespaceImport(c.namedBindings)) names.push(c.namedBindings.name.text);
        else for (const s of c.namedBindings.elements) names.push(s.name.text);
      }
      declare(sf, names);
    }
    // A class declaration's name is also visible inside its own body.
    if (ts.isClassDeclaration(node) && node.name) declare(node, [node.name.text]);
    ts.forEachChild(node, collect);
  };
  collect(sf);

  const free: string[] = [];
  const seen = new Set<string>();
  const imports: string[] = [];
  const resolve = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && isReference(node)) {
      const name = node.text;
      if (name !== "arguments" && name !== "undefined" && !seen.has(name)) {
        let bound = false;
        for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
          if (declared.get(n)?.has(name)) { bound = true; break; }
        }
        if (!bound) {
          free.push(name);
          seen.add(name);
        }
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0) {
      let arg = node.arguments[0];
      if (ts.isCallExpression(arg) && arg.arguments.length === 1) arg = arg.arguments[0];
      if (ts.isStringLiteralLike(arg)) imports.push(arg.text);
    } else if (ts.isShorthandPropertyAssignment(node)) {
      resolve(node.name);
      if (node.objectAssignmentInitializer) resolve(node.objectAssignmentInitializer);
      return;
    }
    ts.forEachChild(node, resolve);
  };
  resolve(sf);
  return { names: free, imports };
}

/** Whether `source` is exactly one statement that can stand as an expression (an expression, or a function/class declaration). */
export function isSingleExpressionLike(source: string): boolean {
  const sf = parseScript(source);
  if (!sf || sf.statements.length !== 1) return false;
  const st = sf.statements[0];
  return ts.isExpressionStatement(st) || ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name !== undefined);
}

/** Whether `source` is exactly one function or class (declaration or expression) and nothing else. */
export function isSingleFunctionOrClass(source: string): boolean {
  const sf = parseScript(source);
  if (!sf || sf.statements.length !== 1) return false;
  const st = sf.statements[0];
  if (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) return true;
  if (ts.isExpressionStatement(st)) {
    let e: ts.Expression = st.expression;
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    return ts.isFunctionExpression(e) || ts.isArrowFunction(e) || ts.isClassExpression(e);
  }
  return false;
}
