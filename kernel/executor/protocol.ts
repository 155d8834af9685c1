/**
 * Messages between the kernel process (which owns the zeromq wire) and its executor child
 * process (which runs cells, owns the session's state, the display machinery and the default
 * pool). They travel over the Node IPC channel of `child_process.fork`, in order, so every
 * `stream`/`display` event for a request arrives before that request's `reply`.
 *
 * Interrupts additionally travel as a single byte on the child's fd 3 (a plain pipe), read by
 * a helper thread inside the executor, so that synchronous code that blocks the executor's
 * main thread can still be stopped (see kernel/executor/interrupter.ts).
 *
 * Cursor positions here are UTF-16 offsets (JavaScript string indices); the wire layer converts
 * from and to the Unicode code points that the Jupyter protocol uses.
 */

export type MimeBundle = Record<string, unknown>;

export interface ExecuteRequest {
  type: "execute";
  id: string; // the request's msg_id; events caused by it carry it as `parent`
  code: string;
  silent: boolean;
  storeHistory: boolean;
  allowStdin: boolean;
  executionCount: number; // the count this cell runs as (already incremented when store_history)
  /** execute_request's user_expressions: evaluated in the session after the cell, when it succeeded. */
  userExpressions?: Record<string, string>;
}
export interface CompleteRequest { type: "complete"; id: string; code: string; cursor: number }
export interface InspectRequest { type: "inspect"; id: string; code: string; cursor: number; detailLevel: 0 | 1 }
export interface IsCompleteRequest { type: "is_complete"; id: string; code: string }
export interface InputReply { type: "input_reply"; id: string; value: string } // id of the input_request event
export interface InterruptNotice { type: "interrupt" }
export interface ShutdownNotice { type: "shutdown" }

export type HostToExecutor =
  | ExecuteRequest | CompleteRequest | InspectRequest | IsCompleteRequest
  | InputReply | InterruptNotice | ShutdownNotice;

export interface ReadyEvent { type: "ready"; pid: number }
export interface StreamEvent { type: "stream"; parent: string; name: "stdout" | "stderr"; text: string }
export interface DisplayEvent {
  type: "display";
  parent: string;
  update: boolean; // update_display_data instead of display_data
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}
export interface ClearOutputEvent { type: "clear_output"; parent: string; wait: boolean }
export interface InputRequestEvent { type: "input_request"; parent: string; id: string; prompt: string; password: boolean }

/** One entry of execute_reply's user_expressions, as the messaging spec describes it. */
export type UserExpressionResult =
  | { status: "ok"; data: MimeBundle; metadata: Record<string, unknown> }
  | { status: "error"; ename: string; evalue: string; traceback: string[] };
export interface ExecuteOk {
  status: "ok";
  result?: { data: MimeBundle; metadata: Record<string, unknown> };
  userExpressions?: Record<string, UserExpressionResult>;
  /** The cell was `exit`/`quit` (not a name the session defines): execute_reply carries ask_exit. */
  askExit?: { keepKernel: boolean };
}
export interface ExecuteError { status: "error"; ename: string; evalue: string; traceback: string[] }
export interface CompleteReplyContent {
  matches: string[]; cursor_start: number; cursor_end: number; // UTF-16 offsets
  metadata: Record<string, unknown>;
}
export interface InspectReplyContent { found: boolean; data: MimeBundle; metadata: Record<string, unknown> }
export interface IsCompleteReplyContent { status: "complete" | "incomplete" | "invalid" | "unknown"; indent?: string }

export type ReplyEvent =
  | { type: "reply"; id: string; kind: "execute"; content: ExecuteOk | ExecuteError }
  | { type: "reply"; id: string; kind: "complete"; content: CompleteReplyContent }
  | { type: "reply"; id: string; kind: "inspect"; content: InspectReplyContent }
  | { type: "reply"; id: string; kind: "is_complete"; content: IsCompleteReplyContent };

export type ExecutorToHost =
  | ReadyEvent | StreamEvent | DisplayEvent | ClearOutputEvent | InputRequestEvent | ReplyEvent;

/** A message as the executor sends it: numbered in sending order (see event-sender.ts). */
export type SequencedMessage = ExecutorToHost & { seq: number };
