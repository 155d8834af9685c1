/**
 * Type checking across cells with one long-lived `ts.LanguageService` over virtual files.
 *
 * A cell is checked as the module `<notebookDir>/__tspool_cell.ts`: one header line importing
 * every name that earlier cells declared (from the cell that declared it last), then the cell's
 * source unchanged, then `export { ...its top-level names };`. So a diagnostic's line minus one
 * is the cell's line, and later cells see exactly the newest definitions. A cell that ran and
 * declared names is kept as the module `./__cell_n` that later headers import from: its emitted
 * declarations (`__cell_n.d.ts`) when TypeScript can state them without problems, else its text.
 * The service is reused from cell to cell, so unchanged files are neither re-read nor re-bound,
 * and a cell that changes no imports reuses the program's whole structure.
 */
import ts from "./typescript.cjs";
import { dirname, join, resolve } from "node:path";
import type { BindingRegistry } from "./bindings.js";
import { packageRoot, tslabDeclarations } from "./paths.js";
import { libraryFiles } from "./library-files.js";
import { typeRootsFor } from "./type-roots.js";

const GLOBALS_FILE_NAME = "__tspool_globals.d.ts";
const CHECK_FILE_NAME = "__tspool_cell.ts";
const CLEAN_CACHE_SIZE = 500;

/** Diagnostics that do not stop a cell from running. */
const IGNORED_CODES = new Set([
  7016, // "Could not find a declaration file for module": an untyped JS package is imported as `any`
  1375, // "'await' expressions are only allowed at the top level of a file when that file is a module" (it is one)
  1378, // top-level await target/module complaint (the cell runs in an async wrapper)
]);

/**
 * `globalThis.name = value` for a name no declaration mentions: TypeScript (strict) calls it an
 * implicit any (7017); a notebook lets it through (the property is then typed `any`).
 */
function isGlobalThisExpando(d: ts.Diagnostic): boolean {
  return d.code === 7017 && ts.flattenDiagnosticMessageText(d.messageText, "\n").includes("typeof globalThis");
}

/** TS2440 on the header: the type-only import that brings the type meaning of a `let` (see `header`). */
function isHeaderMerge(d: ts.Diagnostic, file: CellFile): boolean {
  return d.code === 2440 && d.start !== undefined && d.start < file.headerLength;
}

export interface CellFile {
  fileName: string;
  text: string;
  /** Length of the header line plus its newline: cell offset + headerLength = file offset. */
  headerLength: number;
  /** Length of the cell's own text, which the appended `export { ... }` follows. */
  sourceLength: number;
}

/** The declaration packages (`@types/<name>`) every cell sees. */
const TYPES = ["node"];

export function compilerOptions(): ts.CompilerOptions {
  return <ts.CompilerOptions>{
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    strict: true,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
    resolveJsonModule: true,
    allowJs: false,
    skipLibCheck: true,
    // Declarations of committed cells are emitted in memory only: skip checking output paths
    // (which walks every file of every program).
    suppressOutputPathCheck: true,
    // Cells may import the notebook's own `.ts` files by their real name (the executor loads them).
    // TypeScript allows that only without JS output, which suits: only declarations are ever emitted.
    allowImportingTsExtensions: true,
    emitDeclarationOnly: true,
    types: TYPES,
    typeRoots: typeRootsFor(TYPES),
  };
}

export class CellChecker {
  readonly notebookDir: string;
  readonly #options = compilerOptions();
  readonly #virtual = new Map<string, { text: string; version: number; snapshot: ts.IScriptSnapshot }>();
  readonly #diskSnapshots = new Map<string, ts.IScriptSnapshot | undefined>();
  readonly #roots = new Set<string>();
  readonly #ls: ts.LanguageService;
  readonly #registry = ts.createDocumentRegistry();
  /** A query has run: the program exists, and what is left of a warm-up is not needed. */
  #used = false;
  readonly #resolutionCache: ts.ModuleResolutionCache;
  readonly #fallbackCache: ts.ModuleResolutionCache;
  readonly #checkFile: string;
  /** Texts that type-checked without diagnostics, least recently used first. */
  readonly #clean = new Set<string>();
  #projectVersion = 0;
  #seq = 0;

  constructor(notebookDir: string, globalsDeclarations: string) {
    this.notebookDir = resolve(notebookDir);
    const globalsFile = join(this.notebookDir, GLOBALS_FILE_NAME);
    this.#setFile(globalsFile, globalsDeclarations);
    this.#roots.add(globalsFile);
    this.#checkFile = join(this.notebookDir, CHECK_FILE_NAME);
    this.#setFile(this.#checkFile, "export {};\n");
    this.#roots.add(this.#checkFile);
    const getCanonical = (f: string) => f;
    this.#resolutionCache = ts.createModuleResolutionCache(this.notebookDir, getCanonical, this.#options);
    this.#fallbackCache = ts.createModuleResolutionCache(packageRoot, getCanonical, this.#options);
    const host: ts.LanguageServiceHost & { getModuleResolutionCache(): ts.ModuleResolutionCache } = {
      getProjectVersion: () => String(this.#projectVersion),
      getScriptFileNames: () => [...this.#roots],
      getScriptVersion: (f) => this.#version(f),
      getScriptSnapshot: (f) => this.#snapshot(f),
      getCurrentDirectory: () => this.notebookDir,
      getCompilationSettings: () => this.#options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => this.#virtual.has(f) || ts.sys.fileExists(f),
      readFile: (f) => this.#virtual.get(f)?.text ?? ts.sys.readFile(f),
      directoryExists: (d) => ts.sys.directoryExists(d),
      getDirectories: (d) => ts.sys.getDirectories(d),
      // Lists the notebook's files for completion of relative import paths.
      readDirectory: (d, extensions, exclude, include, depth) => ts.sys.readDirectory(d, extensions, exclude, include, depth),
      realpath: (p) => (ts.sys.realpath ? ts.sys.realpath(p) : p),
      useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
      // Lets TypeScript's package.json lookups (module format of files under node_modules) be cached across programs.
      getModuleResolutionCache: () => this.#resolutionCache,
      resolveModuleNameLiterals: (literals, containingFile, _redirect, options) =>
        literals.map((lit) => this.#resolve(lit.text, containingFile, options)),
    };
    this.#ls = ts.createLanguageService(host, this.#registry);
  }

  get languageService(): ts.LanguageService {
    return this.#ls;
  }

  /**
   * Virtual files count their edits; files on disk outside node_modules (the notebook's own
   * modules, which the user may edit while the kernel runs) go by modification time; packages
   * are taken as fixed.
   */
  #version(f: string): string {
    const v = this.#virtual.get(f);
    if (v) return String(v.version);
    if (f.includes("/node_modules/") || f.startsWith(this.#libDir)) return "0";
    const mtime = ts.sys.getModifiedTime?.(f)?.getTime() ?? 0;
    if (this.#diskVersions.get(f) !== mtime) {
      this.#diskVersions.set(f, mtime);
      this.#diskSnapshots.delete(f);
    }
    return `disk-${mtime}`;
  }

  readonly #diskVersions = new Map<string, number>();
  readonly #libDir = dirname(ts.getDefaultLibFilePath({}));

  #snapshot(f: string): ts.IScriptSnapshot | undefined {
    const v = this.#virtual.get(f);
    if (v) return v.snapshot;
    if (!this.#diskSnapshots.has(f)) {
      const text = ts.sys.readFile(f);
      this.#diskSnapshots.set(f, text === undefined ? undefined : ts.ScriptSnapshot.fromString(text));
    }
    return this.#diskSnapshots.get(f);
  }

  #setFile(fileName: string, text: string): void {
    const prev = this.#virtual.get(fileName);
    this.#virtual.set(fileName, { text, version: (prev?.version ?? 0) + 1, snapshot: ts.ScriptSnapshot.fromString(text) });
    this.#projectVersion++;
  }

  /** Notebook directory first, then the kernel's own install; "tslab" is our compatible module. */
  #resolve(name: string, containingFile: string, options: ts.CompilerOptions): ts.ResolvedModuleWithFailedLookupLocations {
    if (name.startsWith("./__cell_")) {
      const dts = join(this.notebookDir, `${name.slice(2)}.d.ts`);
      if (this.#virtual.has(dts)) return { resolvedModule: { resolvedFileName: dts, extension: ts.Extension.Dts, isExternalLibraryImport: false } };
      const cellFile = join(this.notebookDir, `${name.slice(2)}.ts`);
      if (this.#virtual.has(cellFile))
        return { resolvedModule: { resolvedFileName: cellFile, extension: ts.Extension.Ts, isExternalLibraryImport: false } };
    }
    if (name === "tslab") {
      return { resolvedModule: { resolvedFileName: tslabDeclarations, extension: ts.Extension.Dts, isExternalLibraryImport: false } };
    }
    const host: ts.ModuleResolutionHost = {
      fileExists: (f) => this.#virtual.has(f) || ts.sys.fileExists(f),
      readFile: (f) => this.#virtual.get(f)?.text ?? ts.sys.readFile(f),
      directoryExists: (d) => ts.sys.directoryExists(d),
      realpath: ts.sys.realpath,
      getCurrentDirectory: () => this.notebookDir,
    };
    const first = ts.resolveModuleName(name, containingFile, options, host, this.#resolutionCache);
    if (first.resolvedModule || name.startsWith(".") || name.startsWith("/")) return first;
    const fallback = ts.resolveModuleName(name, join(packageRoot, "__tspool_fallback.ts"), options, host, this.#fallbackCache);
    return fallback.resolvedModule ? fallback : first;
  }

  /**
   * The header line bringing in the registered names the cell may use (those `wanted` accepts,
   * by default every word of its text) and does not declare itself. Bringing in only what a cell
   * mentions keeps each program to the cells it depends on.
   *
   * Most names are imported, which also makes them read-only, as an earlier `const`, function or
   * class is. An earlier `let`/`var` is instead declared again with the type its cell gave it
   * (`declare let n: typeof import("./__cell_3").n;`): the cell may assign to it, and TypeScript
   * checks each assignment as it would for a variable declared in the same file. When its cell
   * also declared the name as a type or namespace (`interface X {}` with `let X: X`), those
   * meanings come with a type-only import of the same name (`import type { X } from "./__cell_3";`),
   * generics and all. TypeScript calls that import a conflict with the local declaration (TS2440)
   * but merges the two, each meaning from its own side, which is what the header wants: `check`
   * drops that one complaint about the header.
   */
  header(registry: BindingRegistry, ownNames: Iterable<string>, wanted: (name: string) => boolean): string {
    const own = new Set(ownNames);
    const byModule = new Map<string, string[]>();
    const variables: string[] = [];
    for (const b of registry.all()) {
      if (own.has(b.name) || !wanted(b.name)) continue;
      const mod = registry.moduleOf(b.name)!;
      if (b.kind === "let" || b.kind === "var") {
        if (b.alsoType) variables.push(`import type { ${b.name} } from ${JSON.stringify(mod)};`);
        variables.push(`declare ${b.kind} ${b.name}: typeof import(${JSON.stringify(mod)}).${b.name};`);
        continue;
      }
      let list = byModule.get(mod);
      if (!list) byModule.set(mod, (list = []));
      list.push(b.name);
    }
    const augmenting = [...this.#globalAugmentations].map((mod) => `import ${JSON.stringify(mod)};`);
    const imports = [...byModule].map(([mod, names]) => `import { ${names.join(", ")} } from ${JSON.stringify(mod)};`);
    return [...augmenting, ...imports, ...variables].join(" ");
  }

  /**
   * Lay a cell down as the text of the checked file. The program's root files never change
   * (the ambient globals and this one file), so that checking a cell whose header is the same as
   * the previous one reuses the whole program structure; only the file's text changes.
   */
  prepare(source: string, header: string, ownNames: string[], opts?: { scratch?: boolean }): CellFile {
    // A scratch file (completion, inspection) may be cut mid-expression: nothing may follow it.
    const tail = opts?.scratch ? "" : `\nexport { ${ownNames.join(", ")} };\n`;
    const text = `${header}\n${source}${tail}`;
    return { fileName: this.#checkFile, text, headerLength: header.length + 1, sourceLength: source.length };
  }

  /** Check the prepared text and return its diagnostics (syntax first; semantics only if the syntax is fine). */
  check(file: CellFile): ts.Diagnostic[] {
    // What a program contains follows from the checked text alone (the roots are fixed, cell
    // modules never change), so a text that checked clean before checks clean again.
    if (this.#clean.has(file.text) && !importsLocalFiles(file.text)) {
      this.#clean.delete(file.text);
      this.#clean.add(file.text);
      return [];
    }
    this.scratch(file);
    const syntactic = this.#ls.getSyntacticDiagnostics(file.fileName);
    if (syntactic.length) return this.#ownSyntaxErrors(file, syntactic);
    const diags = this.#ls
      .getSemanticDiagnostics(file.fileName)
      .filter((d) => !IGNORED_CODES.has(d.code) && !isGlobalThisExpando(d) && !isHeaderMerge(d, file));
    if (diags.length === 0 && !importsLocalFiles(file.text)) {
      this.#clean.add(file.text);
      if (this.#clean.size > CLEAN_CACHE_SIZE) this.#clean.delete(this.#clean.values().next().value!);
    }
    return diags;
  }

  /**
   * The syntax errors of the cell's text without the appended `export { ... }`: the parser would
   * otherwise carry an error at the cell's end into that text (`function (` would go on to
   * complain that `export` is a reserved word). Errors at the end of the cell's text are then at
   * its end. (Only when the text has errors, so this extra parse costs nothing otherwise.)
   */
  #ownSyntaxErrors(file: CellFile, found: readonly ts.Diagnostic[]): ts.Diagnostic[] {
    const end = file.headerLength + file.sourceLength;
    if (file.text.length === end) return [...found];
    this.scratch({ ...file, text: file.text.slice(0, end) });
    const own = this.#ls.getSyntacticDiagnostics(file.fileName);
    return own.length ? [...own] : [...found];
  }

  /**
   * Keep a cell that ran as a module of its own, `./__cell_n`, for later headers to import from.
   * It joins the program when a later cell first imports it.
   */
  commit(file: CellFile, opts?: { augmentsGlobals?: boolean }): string {
    const n = ++this.#seq;
    // Kept as its declarations when TypeScript can state them exactly: later programs then hold
    // only what those declarations need, not every cell the code of this one depended on.
    const dts = this.#declarationsOf(file);
    if (dts !== undefined) this.#setFile(join(this.notebookDir, `__cell_${n}.d.ts`), dts);
    else this.#setFile(join(this.notebookDir, `__cell_${n}.ts`), file.text);
    const module = `./__cell_${n}`;
    this.#cellSources.set(join(this.notebookDir, `__cell_${n}`), file.text.slice(file.headerLength, file.headerLength + file.sourceLength));
    if (opts?.augmentsGlobals) this.#globalAugmentations.add(module);
    return module;
  }

  /** The cell's declaration file, or undefined when declaration emit reports any problem. */
  #declarationsOf(file: CellFile): string | undefined {
    try {
      this.scratch(file);
      const program = this.#ls.getProgram();
      const sf = program?.getSourceFile(file.fileName);
      if (!program || !sf || program.getDeclarationDiagnostics(sf).length) return undefined;
      const out = this.#ls.getEmitOutput(file.fileName, true, true);
      const dts = out.outputFiles.find((f) => f.name.endsWith(".d.ts"));
      return out.emitSkipped || !dts ? undefined : dts.text;
    } catch {
      return undefined;
    }
  }

  /** The text of each kept cell (as checked), by its module's file name without extension. */
  readonly #cellSources = new Map<string, string>();

  /**
   * The text a kept cell was written as, given the file name of its module (`__cell_n.d.ts`, or
   * `__cell_n.ts`); undefined for any other file.
   */
  cellSource(fileName: string): string | undefined {
    return this.#cellSources.get(fileName.replace(/(?:\.d)?\.ts$/, ""));
  }

  /** Cells with `declare global { ... }`: every later cell imports them, so the globals they add exist. */
  readonly #globalAugmentations = new Set<string>();

  /** Forget a cell that failed (nothing to undo: the checked file is simply overwritten next time). */
  discard(_file: CellFile): void {}

  /** Put text in the checked file (for completion/inspection) without checking it. */
  scratch(file: CellFile): void {
    this.#used = true;
    if (this.#virtual.get(file.fileName)?.text !== file.text) this.#setFile(file.fileName, file.text);
  }

  /**
   * The warm-up in small steps, so that the caller can answer other requests between them:
   * parse each library file (the bulk of the work), then build the program and its type checker,
   * then check a first cell. Running out the steps equals warmUp().
   */
  *warmUpSteps(): Generator<string> {
    for (const file of libraryFiles(this.#options)) {
      if (this.#used) return;
      const snapshot = this.#snapshot(file);
      // Parsed into the language service's document registry, where the program will find it.
      if (snapshot) this.#registry.acquireDocument(file, this.#options, snapshot, this.#version(file));
      yield file;
    }
    if (this.#used) return;
    const file = this.prepare("const __tspool_warm_up: number = 1;", "", []);
    this.#ls.getProgram();
    yield "program";
    this.#ls.getProgram()?.getTypeChecker();
    yield "binding";
    this.check(file);
    this.discard(file);
    yield "check";
  }

  /** Warm the service up (parse the libraries, build a checker) so the first cell is quick. */
  warmUp(): void {
    const file = this.prepare("const __tspool_warm_up: number = 1;", "", []);
    this.check(file);
    this.discard(file);
  }
}

/** Whether a text imports files by path (which may change on disk, unlike cells and packages). */
function importsLocalFiles(text: string): boolean {
  return /(?:from|import|require)\s*\(?\s*["'](?:\.{1,2}\/(?!__cell_)|\/)/.test(text);
}

/** Every identifier-like word of a text (a superset of the names it can refer to). */
export function wordsOf(text: string): Set<string> {
  return new Set(text.match(/[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/gu) ?? []);
}
