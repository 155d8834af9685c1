/** Runs a language-service query on a cell's text as if it were the next cell (then drops it). */
import type { BindingRegistry } from "./bindings.js";
import { wordsOf, type CellChecker, type CellFile } from "./checker.js";
import { declaredNames, parseCell } from "./declarations.js";
import { applyEdits, type SourceEdit } from "./source-edits.js";

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
export function withScratchCell<T>(
  host: ScratchHost, code: string, query: (file: CellFile, at: (offset: number) => number) => T, prefix?: string, typing?: ScratchTyping,
): T {
  const run = () => scratchQuery(host, code, query, prefix, typing);
  return host.guard ? host.guard(run) : run();
}

/** How the checker sees the code, as a magic would compile it (see CompileOptions). */
export interface ScratchTyping {
  checkContext?: string;
  edits?: readonly SourceEdit[];
}

function scratchQuery<T>(
  host: ScratchHost, code: string, query: (file: CellFile, at: (offset: number) => number) => T, prefix: string | undefined, typing: ScratchTyping | undefined,
): T {
  const edits = typing?.edits ?? [];
  const checked = edits.length ? applyEdits(code, edits, true) : code;
  const context = typing?.checkContext ? `\n${typing.checkContext}` : "";
  const own = declaredNames(parseCell(code)).map((n) => n.name);
  const checker = host.checker;
  const words = wordsOf(checked + context);
  const wanted = (n: string) => words.has(n) || (prefix !== undefined && n.toLowerCase().startsWith(prefix.toLowerCase()));
  // (names the context declares stand for earlier cells' bindings of that name, as in Session's compile)
  const shadowed = typing?.checkContext ? declaredNames(parseCell(typing.checkContext)).map((n) => n.name) : [];
  const file = checker.prepare(checked, checker.header(host.bindings, [...own, ...shadowed], wanted) + context, own, { scratch: true });
  // A position in `code` as a position in the file: past the text inserted before it (text
  // inserted at the position itself, such as a closing parenthesis, stays after it).
  const at = (offset: number) => file.headerLength + offset + edits.reduce((n, e) => (e.at < offset ? n + e.text.length : n), 0);
  checker.scratch(file);
  try {
    return query(file, at);
  } finally {
    checker.discard(file);
  }
}
