/**
 * The session (contract C1): the notebook's state between cells — the binding registry, the
 * cross-cell type checker, compiled cells' source maps — and the way to run TypeScript as a cell.
 * Magics receive it; kernel/executor/main.ts drives it.
 */
import vm from "node:vm";
import type { ExecuteError, ExecutorToHost } from "./protocol.js";
import { BindingRegistry, type Binding } from "../compiler/bindings.js";
import { CellChecker, wordsOf, type CellFile } from "../compiler/checker.js";
import { cellGlobalsDeclarations } from "../compiler/cell-globals.js";
import { declaredNames, parseCell, type DeclaredName } from "../compiler/declarations.js";
import { compileError, positionOf, toCellDiagnostics } from "../compiler/diagnostics.js";
import { toCellScript, type CellScript } from "../compiler/cell-script.js";
import { applyEdits, toSourceSpan, type SourceEdit } from "../compiler/source-edits.js";
import { createModuleUrlResolver } from "../compiler/module-urls.js";
import { StackMapper } from "./stack.js";
import { interruptedError, runtimeError } from "./runtime-error.js";
import { protect } from "./interrupt-guard.js";
import { withTypeScriptLoader } from "./typescript-loader-registration.js";

import { outputContext, type OutputContext } from "./output-context.js";
export { outputContext, type OutputContext } from "./output-context.js";

type Compiled =
  | { status: "ok"; file: CellFile; script: CellScript; names: DeclaredName[]; source: string }
  | ExecuteError;

/** How a cell is compiled beyond its text. */
export interface CompileOptions {
  /** Names that exist where the code will run (the workers) but not in the kernel; typed `any`. */
  externs?: readonly string[];
  /**
   * TypeScript the checker sees before the cell (after its imports) and nothing runs, e.g.
   * declarations the edits use. A name it declares replaces an earlier cell's binding of that
   * name for this check (e.g. a name the code finds on the workers, not in the kernel).
   */
  checkContext?: string;
  /** Text inserted into the cell (see source-edits.ts); errors are still reported against the text as written. */
  edits?: readonly SourceEdit[];
}

export class Session {
  readonly notebookDir: string;
  readonly bindings = new BindingRegistry();
  readonly #emit: (event: ExecutorToHost) => void;
  readonly #stacks = new StackMapper();
  readonly #resolveUrl: (spec: string) => string;
  #checker: CellChecker | undefined;
  #executionCount = 0;

  constructor(opts: { notebookDir: string; emit: (event: ExecutorToHost) => void }) {
    this.notebookDir = opts.notebookDir;
    this.#emit = opts.emit;
    this.#resolveUrl = withTypeScriptLoader(createModuleUrlResolver(this.notebookDir));
  }

  get executionCount(): number {
    return this.#executionCount;
  }

  set executionCount(n: number) {
    this.#executionCount = n;
  }

  get checker(): CellChecker {
    this.#checker ??= new CellChecker(this.notebookDir, cellGlobalsDeclarations());
    return this.#checker;
  }

  emit(event: ExecutorToHost): void {
    this.#emit(event);
  }

  /** Maps stacks of compiled cells back to cell lines. */
  get stacks(): StackMapper {
    return this.#stacks;
  }

  mapStack(stack: string): string {
    return this.#stacks.mapStack(stack);
  }

  /** Runs compiler work that an interrupt must not cut short. */
  guard<T>(fn: () => T): T {
    return protect(fn);
  }

  /** The URL `import()` loads for a module specifier written in a cell. */
  resolveModule(specifier: string): string {
    return this.#resolveUrl(specifier);
  }

  #compile(source: string, mode: "cell" | "worker", lineOffset: number, opts: CompileOptions = {}): Compiled {
    return protect(() => this.#compileUnprotected(source, mode, lineOffset, opts));
  }

  #compileUnprotected(written: string, mode: "cell" | "worker", lineOffset: number, opts: CompileOptions): Compiled {
    const edits = opts.edits ?? [];
    const source = edits.length ? applyEdits(written, edits, false) : written; // what runs
    const checked = edits.length ? applyEdits(written, edits, true) : written; // what the checker sees
    const names = declaredNames(parseCell(source));
    const own = names.map((n) => n.name);
    const checker = this.checker;
    const context = opts.checkContext ? `\n${opts.checkContext}` : "";
    const words = wordsOf(context ? `${checked}\n${context}` : checked);
    const toExport = names.filter((n) => !n.exported).map((n) => n.name);
    // Externs the cell uses and neither declares nor has from earlier cells: `any` to the checker,
    // on the header line (so the cell's own lines and columns are unchanged).
    const unknown = (opts.externs ?? []).filter((n) => words.has(n) && !own.includes(n) && !this.bindings.has(n));
    const declareExterns = unknown.length ? ` declare var ${unknown.map((n) => `${n}: any`).join(", ")};` : "";
    const shadowed = opts.checkContext ? declaredNames(parseCell(opts.checkContext)).map((n) => n.name) : [];
    const file = checker.prepare(checked, checker.header(this.bindings, [...own, ...shadowed], (n) => words.has(n)) + declareExterns + context, toExport);
    let diags;
    try {
      // Diagnostics at the places the user wrote (inserted text is not theirs to see).
      const found = checker.check(file).map((d) => {
        if (!edits.length || d.start === undefined || d.file?.fileName !== file.fileName || d.start < file.headerLength) return d;
        const span = toSourceSpan(edits, d.start - file.headerLength, d.length ?? 0);
        const messageText = span.explain?.code === d.code ? { messageText: span.explain.text, category: d.category, code: d.code, next: [typeof d.messageText === "string" ? { messageText: d.messageText, category: d.category, code: d.code } : d.messageText] } : d.messageText;
        return { ...d, start: span.start + file.headerLength, length: span.length, messageText };
      });
      diags = toCellDiagnostics(found, file, written, (name) => {
        const b = this.bindings.get(name);
        return b && { kind: b.kind, cell: b.cell };
      });
    } catch (err) {
      checker.discard(file);
      return { status: "error", ename: "InternalError", evalue: `the type checker failed: ${(err as Error)?.message ?? err}`, traceback: [String((err as Error)?.stack ?? err)] };
    }
    if (diags.length) {
      checker.discard(file);
      for (const d of diags) d.message = this.#withInstallHint(d.code, d.message);
      return compileError(diags, written, lineOffset);
    }
    try {
      const script = this.#script(source, mode);
      return { status: "ok", file, script, names, source };
    } catch (err) {
      checker.discard(file);
      const e = err as Error;
      return { status: "error", ename: e.name || "Error", evalue: e.message, traceback: [`${e.name}: ${e.message}`] };
    }
  }

  /** "Cannot find module 'x'" for a package found nowhere: say how to get it. */
  #withInstallHint(code: number, message: string): string {
    const name = code === 2307 ? /Cannot find module '([^']+)'/.exec(message)?.[1] : undefined;
    if (!name || name.startsWith(".") || name.startsWith("/")) return message;
    try {
      this.#resolveUrl(name);
      return message;
    } catch {
      const pkg = name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0];
      return `${message} Install it next to the notebook with: npm install ${pkg}`;
    }
  }

  /** The cell's script; the same source gives the same script unless it imports (files may move). */
  #script(source: string, mode: "cell" | "worker"): CellScript {
    const key = `${mode}\0${source}`;
    const cached = this.#scripts.get(key);
    if (cached) return cached;
    const script = toCellScript(source, { resolve: (s) => this.#resolveUrl(s), mode });
    if (script.imports.length === 0 && !/\bimport\b/.test(source)) {
      this.#scripts.set(key, script);
      if (this.#scripts.size > 500) this.#scripts.delete(this.#scripts.keys().next().value!);
    }
    return script;
  }

  readonly #scripts = new Map<string, CellScript>();

  /**
   * Type-check against earlier cells and run TS as a cell in the session scope. Declarations
   * persist (and are registered). A cell that throws (or is interrupted) part-way keeps, as at
   * run time, what it got to: its types, interfaces and (hoisted) functions, and the values it
   * assigned before the exception; the names it did not reach keep their earlier definitions.
   * A cell abandoned by an interrupt answers with the `Interrupted` error once its code settles.
   */
  async evaluateCell(
    written: string,
    opts: { parent: string; lineOffset?: number } & CompileOptions,
  ): Promise<{ status: "ok"; value: unknown; declared: string[] } | ExecuteError> {
    const lineOffset = opts.lineOffset ?? 0;
    const compiled = this.#compile(written, "cell", lineOffset, opts);
    if (compiled.status !== "ok") return compiled;
    const { file, script, names, source } = compiled;
    const filename = this.#scriptName();
    this.#stacks.register(filename, script.map, script.columns, lineOffset, script.code.split("\n").length);
    this.#code.set(filename, script.code);
    const running: RunningCell = { file, source, names, script, filename, before: snapshotOf(names) };
    this.#running = running;
    let result: unknown;
    try {
      const run = new vm.Script(script.code, {
        filename,
        // Cells import absolute URLs (resolved at compile time) with the process's own ESM loader.
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
      const ctx = outputContext.getStore();
      const parentCtx: OutputContext = ctx && ctx.parent === opts.parent ? ctx : { parent: opts.parent, silent: false, allowStdin: ctx?.allowStdin ?? false };
      result = await outputContext.run(parentCtx, () => run.runInThisContext());
    } catch (err) {
      this.#keepReached(running);
      return runtimeError(err, this.#stacks);
    }
    if (this.#running !== running) return interruptedError(); // abandoned by an interrupt: the caller must not go on
    this.#running = null;
    this.#commit(file, source, names, script);
    const value = script.hasResult && Array.isArray(result) ? result[0] : undefined;
    return { status: "ok", value, declared: names.map((n) => n.name) };
  }

  /**
   * Type-check without running; the JS runs as a *script* elsewhere (a pool worker): top-level
   * declarations become globals; its completion value is the last expression's value, or a
   * Promise of it when the code uses imports or top-level await.
   * With `filename` (the name the script runs under, e.g. its `//# sourceURL=`), `mapStack`
   * afterwards rewrites that script's frames to `cell[N]:line:column` of the current cell.
   */
  compileForWorker(
    source: string,
    opts?: { lineOffset?: number; filename?: string; externs?: readonly string[]; checkContext?: string },
  ): { status: "ok"; js: string; declared: string[] } | ExecuteError {
    const lineOffset = opts?.lineOffset ?? 0;
    const compiled = this.#compile(source, "worker", lineOffset, { externs: opts?.externs, checkContext: opts?.checkContext });
    if (compiled.status !== "ok") return compiled;
    this.checker.discard(compiled.file);
    if (opts?.filename) {
      const { map, columns, code, wrapped } = compiled.script;
      const lines = wrapped ? code.split("\n").length : Infinity;
      this.#stacks.register(opts.filename, map, columns, lineOffset, lines, `cell[${this.#executionCount}]`);
    }
    // What the script defines when it runs (types and ambient declarations never reach a worker).
    const defined = compiled.names.filter((n) => !n.ambient && n.kind !== "type" && n.kind !== "interface");
    return { status: "ok", js: compiled.script.code, declared: defined.map((n) => n.name) };
  }

  /** The code of each script cells ran as, by its file name in stack traces (see locate). */
  readonly #code = new Map<string, string>();

  /**
   * Where JavaScript `source` (e.g. a function's text, as Function.prototype.toString gives it)
   * is in the scripts cells ran as: in cell `cell`'s (its latest run) when given, else in the
   * running cell's or the newest that has it. Line and column are 1-based, as in stack traces;
   * the stack mapper maps positions in that script to the cell (stacks.position).
   */
  locate(source: string, cell?: number): { script: string; line: number; column: number } | undefined {
    const newestFirst = [...this.#code.keys()].reverse();
    const scripts = cell === undefined
      ? [this.#running?.filename, ...newestFirst]
      : newestFirst.filter((f) => f === `cell[${cell}]` || f.startsWith(`cell[${cell}]#`));
    for (const script of scripts) {
      const code = script === undefined ? undefined : this.#code.get(script);
      const at = code === undefined ? -1 : code.indexOf(source);
      if (at >= 0) return { script: script!, ...positionOf(code!, at) };
    }
    return undefined;
  }

  /** The cell being run, until it ends or an interrupt abandons it. */
  #running: RunningCell | null = null;
  #interrupts = 0;

  /**
   * How many interrupts the session has had: code that awaits on behalf of a cell (a magic)
   * compares it before and after, to stop when its cell was interrupted meanwhile.
   */
  get interrupts(): number {
    return this.#interrupts;
  }

  /**
   * An interrupt ended the running cell (its code was terminated, or it is left waiting): keep
   * what it got to, as when it throws. Nothing else happens if no cell is running.
   */
  abandonRunningCell(): void {
    this.#interrupts++;
    if (this.#running) this.#keepReached(this.#running);
  }

  /** A cell that ended early: commit what it reached (types, hoisted functions, assignments made). */
  #keepReached(cell: RunningCell): void {
    if (this.#running !== cell) return;
    this.#running = null;
    const reached = cell.names.filter((n) => !cell.before.has(n.name) || changedSince(cell.before.get(n.name)!, n.name));
    if (reached.length) this.#commit(cell.file, cell.source, reached, cell.script);
    else this.checker.discard(cell.file);
  }

  /** Keep a cell that ran for later cells: its checked module, and `names` as the newest bindings. */
  #commit(file: CellFile, source: string, names: DeclaredName[], script: CellScript): void {
    const augmentsGlobals = /\bdeclare\s+global\b/.test(source);
    if (!names.length && !augmentsGlobals) return;
    const module = this.checker.commit(file, { augmentsGlobals });
    if (names.length) this.bindings.define(this.#bindingsOf(names, script), module);
  }

  /** `cell[n]` as stack traces show it; `cell[n]#2`... when count n runs again (silent or not stored). */
  #scriptName(): string {
    const n = this.#executionCount;
    const uses = (this.#namesUsed.get(n) ?? 0) + 1;
    this.#namesUsed.set(n, uses);
    return uses === 1 ? `cell[${n}]` : `cell[${n}]#${uses}`;
  }

  readonly #namesUsed = new Map<number, number>();

  #bindingsOf(names: DeclaredName[], script: CellScript): Binding[] {
    const cell = this.#executionCount;
    return names.map((n) => {
      const b: Binding = { name: n.name, kind: n.kind, cell, ...(n.alsoType ? { alsoType: true } : {}) };
      if (n.ambient) b.ambient = true;
      const js = script.declarations.get(n.name);
      if (js && (n.kind === "function" || n.kind === "class" || n.kind === "enum" || n.kind === "namespace")) {
        b.js = js;
      }
      if (n.kind === "import" && n.from) {
        try {
          b.importSpec = { url: this.#resolveUrl(n.from.specifier), imported: n.from.imported };
        } catch {
          // a type-only import of a package without JS: nothing to load at run time
        }
      }
      return b;
    });
  }
}

/** A name's global before a cell ran: whether it existed, and its value. */
interface GlobalBefore { existed: boolean; value: unknown }

interface RunningCell {
  file: CellFile;
  source: string;
  names: DeclaredName[];
  script: CellScript;
  filename: string;
  before: Map<string, GlobalBefore>;
}

/**
 * The globals of the names a cell assigns as it runs (not types, not hoisted functions, not
 * ambient declarations), taken before it runs, to tell afterwards which assignments it reached.
 */
function snapshotOf(names: DeclaredName[]): Map<string, GlobalBefore> {
  const g = globalThis as Record<string, unknown>;
  const out = new Map<string, GlobalBefore>();
  for (const n of names) {
    if (n.ambient || n.kind === "type" || n.kind === "interface" || n.kind === "function") continue;
    const existed = Object.hasOwn(g, n.name);
    out.set(n.name, { existed, value: existed ? g[n.name] : undefined });
  }
  return out;
}

/** Whether the cell assigned the name (an assignment of the very same value is not seen: nothing changed). */
function changedSince(before: GlobalBefore, name: string): boolean {
  const g = globalThis as Record<string, unknown>;
  const value = g[name];
  return before.existed ? !Object.is(value, before.value) : value !== undefined;
}
