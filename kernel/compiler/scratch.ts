/** Runs a language-service query on a cell's text as if it were the next cell (then drops it). */
import type { BindingRegistry } from "./bindings.js";
import { wordsOf, type CellChecker, type CellFile } from "./checker.js";
import { declaredNames, parseCell } from "./declarations.js";

export interface ScratchHost {
  readonly checker: CellChecker;
  readonly bindings: BindingRegistry;
  /** Runs compiler work that must not be cut short by an interrupt (see interrupt-guard.ts). */
  guard?<T>(fn: () => T): T;
}

/**
 * `prefix`: the word being completed, if any — earlier cells' names starting with it are made
 * visible too (besides the names the code mentions).
 */
export function withScratchCell<T>(host: ScratchHost, code: string, query: (file: CellFile) => T, prefix?: string): T {
  return host.guard ? host.guard(() => scratchQuery(host, code, query, prefix)) : scratchQuery(host, code, query, prefix);
}

function scratchQuery<T>(host: ScratchHost, code: string, query: (file: CellFile) => T, prefix?: string): T {
  const own = declaredNames(parseCell(code)).map((n) => n.name);
  const checker = host.checker;
  const words = wordsOf(code);
  const wanted = (n: string) => words.has(n) || (prefix !== undefined && n.toLowerCase().startsWith(prefix.toLowerCase()));
  const file = checker.prepare(code, checker.header(host.bindings, own, wanted), own, { scratch: true });
  checker.scratch(file);
  try {
    return query(file);
  } finally {
    checker.discard(file);
  }
}
