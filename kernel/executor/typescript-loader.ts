/**
 * Module loader hooks (registered with `module.register` by typescript-loader-registration.ts)
 * that let cells import the notebook's own TypeScript files: `.ts`/`.mts`/`.tsx` outside
 * node_modules are transpiled to ES modules on load, and relative imports between them may omit
 * the extension or say `.js` for a `.ts` file, as TypeScript projects do. Type checking of those
 * files happens in the kernel's checker; here they are only transpiled.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

type Resolved = { url: string; format?: string | null; shortCircuit?: boolean };
type NextResolve = (specifier: string, context: { parentURL?: string }) => Promise<Resolved>;
type Loaded = { format: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean };
type NextLoad = (url: string, context: unknown) => Promise<Loaded>;

const TS_FILE = /\.(ts|mts|tsx)$/;

function isOwnTypeScript(url: string): boolean {
  return url.startsWith("file:") && TS_FILE.test(new URL(url).pathname) && !url.includes("/node_modules/");
}

/** `./x` or `./x.js` from a TypeScript file, when `./x.ts` (or `./x/index.ts`) is what exists. */
function typeScriptCandidate(specifier: string, parentURL: string): string | undefined {
  const base = new URL(specifier, parentURL);
  const path = fileURLToPath(base);
  const stem = path.replace(/\.(m?js|jsx)$/, "");
  for (const candidate of [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${path}/index.ts`])
    if (existsSync(candidate)) return pathToFileURL(candidate).href;
  return undefined;
}

export async function resolve(specifier: string, context: { parentURL?: string }, nextResolve: NextResolve): Promise<Resolved> {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const parent = context.parentURL;
    if (parent && isOwnTypeScript(parent) && (specifier.startsWith("./") || specifier.startsWith("../"))) {
      const url = typeScriptCandidate(specifier, parent);
      if (url) return { url, shortCircuit: true };
    }
    throw err;
  }
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<Loaded> {
  if (!isOwnTypeScript(url)) return nextLoad(url, context);
  const source = readFileSync(fileURLToPath(url), "utf8");
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    reportDiagnostics: false,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      jsx: ts.JsxEmit.ReactJSX,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  });
  return { format: "module", source: out.outputText, shortCircuit: true };
}
