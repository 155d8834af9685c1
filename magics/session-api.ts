/**
 * What the magics need from the executor's session (contract C1), stated structurally so the
 * magics depend on the contract, not on the session's implementation.
 */
import type { ExecuteError, ExecutorToHost } from "../kernel/executor/protocol.js";
import type { SourceEdit } from "../kernel/compiler/source-edits.js";
import type { ScratchHost } from "../kernel/compiler/scratch.js";
import type { PositionSource, ScriptPosition } from "./cell-positions.js";

export type EvaluateResult = { status: "ok"; value: unknown; declared: string[] } | ExecuteError;
/** `declared`: the names the compiled script defines at run time (no types). */
export type CompileResult = { status: "ok"; js: string; declared: string[] } | ExecuteError;

/**
 * The session's bindings and type checker (ScratchHost) let a magic ask the compiler about code
 * that does not run in the kernel, such as the value type of a `%%pool run` body.
 */
export interface MagicSession extends ScratchHost {
  readonly notebookDir: string;
  readonly executionCount: number;
  /**
   * `checkContext` and `edits`: TypeScript only the checker sees (its declarations stand for
   * earlier cells' bindings of the same names), and text inserted into the cell (see
   * kernel/compiler/source-edits.ts); errors point at the text as written.
   */
  evaluateCell(ts: string, opts: { parent: string; lineOffset?: number; checkContext?: string; edits?: readonly SourceEdit[] }): Promise<EvaluateResult>;
  /** `filename`: the name the compiled script runs under; `stacks` maps its positions afterwards. */
  compileForWorker(ts: string, opts?: { lineOffset?: number; checkContext?: string; filename?: string }): CompileResult;
  emit(event: ExecutorToHost): void;
  /** Where a function's JavaScript is in the scripts cells ran as (see Session.locate). */
  locate(source: string, cell?: number): ScriptPosition | undefined;
  /** Cell positions of positions in the scripts cells (and compiled `%%pool run` bodies) ran as. */
  readonly stacks: PositionSource["stacks"];
  /** Interrupts so far (see cell-interrupt.ts); a cell abandoned by one answers evaluateCell with `Interrupted`. */
  readonly interrupts: number;
}

/** The request a magic cell runs for (the executor's ExecuteRequest, or at least its id). */
export interface MagicRequest {
  id: string;
  executionCount?: number;
  /** A silent request gets no execute_result (as with ordinary cells). */
  silent?: boolean;
}

export function writeStream(session: MagicSession, parent: string, name: "stdout" | "stderr", text: string): void {
  session.emit({ type: "stream", parent, name, text: text.endsWith("\n") ? text : text + "\n" });
}
