/**
 * TypeScript's emit helpers (`__esDecorate`, `__runInitializers`, `__disposeResources`, ...): the
 * small functions TypeScript writes at the top of a cell that uses decorators or `using`, which
 * the cell's code then calls. In the kernel they are globals of the session; code shipped to the
 * workers calls them too, so they travel along with it, as the very text TypeScript emits (their
 * values cannot travel by their source alone: some are made inside a function, e.g.
 * `__disposeResources` keeps a `SuppressedError` fallback).
 *
 * The texts are taken, once, from TypeScript's output for a snippet that needs every helper the
 * kernel's compile options (ES2022) can emit.
 */
import ts from "../kernel/compiler/typescript.cjs";

const SNIPPET = `declare const d: any;
@d class A { @d m() {} @d accessor a = 1; @d f = 1; @d get g() { return 1 } @d #p() {} @d [Symbol.iterator]() {} @d static #q = 1; @d accessor #r = 2 }
const B = @d class {};
function u() { using r = null; }
async function au() { await using r = null; }
`;

let helpers: Map<string, string> | undefined;

function emitted(): Map<string, string> {
  if (helpers) return helpers;
  const out = ts.transpileModule(SNIPPET, {
    reportDiagnostics: false,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, useDefineForClassFields: true, verbatimModuleSyntax: true },
  }).outputText;
  const sf = ts.createSourceFile("helpers.js", out, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  helpers = new Map();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.name.text.startsWith("__") && d.initializer) helpers.set(d.name.text, d.initializer.getText(sf));
    }
  }
  return helpers;
}

/** The expression TypeScript defines the helper `name` with, or undefined when `name` is not one of its helpers. */
export function emitHelperSource(name: string): string | undefined {
  if (!name.startsWith("__")) return undefined;
  return emitted().get(name);
}
