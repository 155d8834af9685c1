/**
 * Runs one code cell on the kernel and waits until it is really over: the execute_reply has
 * arrived and so has the cell's idle status on iopub (the last of its outputs). Meanwhile its
 * iopub messages go to the notebook (OutputRecorder) and the terminal (TerminalPrinter). It also
 * enforces the per-cell time limit, follows Ctrl-C interrupts, and notices a kernel that died.
 */
import type { Output } from "./notebook.js";
import type { KernelClient } from "./client.js";
import { delay } from "./client.js";
import type { KernelProcess } from "./kernel-process.js";
import type { OutputRecorder } from "./output-recorder.js";
import { askLine } from "./terminal-input.js";
import { errorText, type TerminalPrinter } from "./terminal.js";

/** After interrupting a cell that ran out of time, how long to wait for the kernel to settle. */
const AFTER_INTERRUPT_MS = 10_000;
/** While a cell keeps running after Ctrl-C, the interrupt is sent again this often. */
const INTERRUPT_REPEAT_MS = 2_000;
const POLL_MS = 10;

export type CellOutcome = "ok" | "error" | "timeout" | "kernel-died" | "user-abort";

export interface CellResult {
  outcome: CellOutcome;
  executionCount: number | null;
  /** True when the user interrupted this cell (Ctrl-C). */
  interrupted: boolean;
}

export class CellRunner {
  private current: string | null = null;
  private idle = false;
  private interruptSentAt = 0;
  private interrupted = false;

  constructor(
    private readonly client: KernelClient,
    private readonly kernel: KernelProcess,
    private readonly recorder: OutputRecorder,
    private readonly printer: TerminalPrinter,
    private readonly timeoutMs: number,
    /** Cells may ask for input (the runner's stdin is a terminal). */
    private readonly interactive: boolean,
  ) {
    client.onInputRequest((m) => {
      if (this.current === null || m.parent_header.msg_id !== this.current) return;
      this.printer.prepareForInput();
      void askLine(String(m.content.prompt ?? ""), Boolean(m.content.password)).then((value) => {
        if (value !== null) this.client.replyInput(m, value);
      });
    });
    client.onIopub((m) => {
      if (this.current !== null && m.parent_header.msg_id === this.current) {
        if (m.header.msg_type === "status" && m.content.execution_state === "idle") this.idle = true;
        else if (this.recorder.apply(m)) this.printer.show(m);
      } else if (m.header.msg_type === "update_display_data") {
        this.recorder.apply(m); // a display of an earlier cell, updated from the background
      }
    });
  }

  /** Ctrl-C: interrupt the running cell (and keep interrupting it while it runs on). */
  interrupt(): void {
    this.interrupted = true;
    this.sendInterrupt();
  }

  /** Runs `code` as the next cell; its outputs go to `outputs` (from recorder.startCell()). */
  async run(code: string, outputs: Output[], stopRequested: () => boolean): Promise<CellResult> {
    this.idle = false;
    this.interrupted = false;
    this.interruptSentAt = 0;
    const { id, reply } = this.client.send("shell", "execute_request", {
      code, silent: false, store_history: true, user_expressions: {}, allow_stdin: this.interactive, stop_on_error: true,
    });
    this.current = id;
    let content: Record<string, any> | null = null;
    reply.then((m) => { content = m.content; }, () => {});
    let outcome: CellOutcome;
    try {
      outcome = await this.waitUntilOver(() => content, stopRequested);
    } finally {
      this.current = null;
    }
    const reported = content as Record<string, any> | null;
    this.explain(outcome, reported, outputs);
    if (outcome === "user-abort") this.printer.cellAbandoned("the run was stopped");
    else if (outcome === "kernel-died") this.printer.cellAbandoned("the kernel died");
    else this.printer.cellEnd();
    if (outcome === "timeout" || outcome === "kernel-died") {
      const last = outputs[outputs.length - 1];
      if (last?.output_type === "error") this.printer.note(last.traceback[0]);
    }
    return {
      outcome,
      executionCount: typeof reported?.execution_count === "number" ? reported.execution_count : null,
      interrupted: this.interrupted,
    };
  }

  private async waitUntilOver(reply: () => Record<string, any> | null, stopRequested: () => boolean): Promise<CellOutcome> {
    let deadline = this.timeoutMs > 0 ? Date.now() + this.timeoutMs : Infinity;
    let timedOut = false;
    for (;;) {
      const content = reply();
      if (content && this.idle) {
        if (timedOut) return "timeout";
        return content.status === "ok" ? "ok" : "error";
      }
      if (this.kernel.hasExited) return "kernel-died";
      if (stopRequested()) return "user-abort";
      // An interrupt that reaches the kernel before the cell really starts (while it is still
      // queued or being compiled) may take effect late: repeat it while the same cell runs on.
      if (this.interruptSentAt && Date.now() - this.interruptSentAt > INTERRUPT_REPEAT_MS) this.sendInterrupt();
      if (Date.now() > deadline) {
        if (timedOut) return "timeout"; // the kernel did not settle after the interrupt either
        timedOut = true;
        this.sendInterrupt();
        deadline = Date.now() + AFTER_INTERRUPT_MS;
      }
      await delay(POLL_MS);
    }
  }

  private sendInterrupt(): void {
    this.interruptSentAt = Date.now();
    this.client.send("control", "interrupt_request", {});
  }

  /** Adds the error output a failure of this kind needs in the notebook, when the kernel sent none. */
  private explain(outcome: CellOutcome, reply: Record<string, any> | null, outputs: Output[]): void {
    if (outcome === "timeout") {
      const text = `Cell timed out: it ran longer than ${this.timeoutMs / 1000} s (raise the limit with --timeout SECONDS).`;
      this.recorder.push({ output_type: "error", ename: "CellTimeoutError", evalue: text, traceback: [`CellTimeoutError: ${text}`] });
    } else if (outcome === "kernel-died") {
      const text = `The kernel ${this.kernel.exitDescription} while running this cell.`;
      this.recorder.push({ output_type: "error", ename: "DeadKernelError", evalue: text, traceback: [`DeadKernelError: ${text}`] });
    } else if (outcome === "error" && reply && !outputs.some((o) => o.output_type === "error")) {
      // Normally the error arrived (and was printed) on iopub; if not, the reply still says what it was.
      this.recorder.push({
        output_type: "error",
        ename: String(reply.ename ?? "Error"),
        evalue: String(reply.evalue ?? ""),
        traceback: Array.isArray(reply.traceback) ? reply.traceback.map(String) : [],
      });
      this.printer.note(errorText(reply));
    }
  }
}
