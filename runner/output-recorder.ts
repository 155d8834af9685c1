/**
 * Turns a cell's iopub messages into nbformat outputs, the way a notebook frontend keeps them:
 * consecutive stream messages of one name merge, clear_output (with or without `wait`) clears,
 * and update_display_data replaces every output that carries its display_id, in any cell.
 */
import type { JupyterMessage } from "../kernel/wire/message.js";
import type { Output } from "./notebook.js";

type DisplayOutput = Extract<Output, { output_type: "display_data" | "execute_result" }>;

export class OutputRecorder {
  private outputs: Output[] = [];
  private clearPending = false;
  /** display_id -> the outputs (in any cell) that show it. */
  private readonly displays = new Map<string, Set<DisplayOutput>>();
  private readonly displayOf = new Map<Output, string>();

  /** Starts recording a new cell's outputs; returns the array that will hold them. */
  startCell(): Output[] {
    this.outputs = [];
    this.clearPending = false;
    return this.outputs;
  }

  /** Applies one iopub message. Returns true when it changed the notebook. */
  apply(msg: JupyterMessage): boolean {
    const c = msg.content as Record<string, any>;
    switch (msg.header.msg_type) {
      case "stream": {
        const name = c.name === "stderr" ? "stderr" : "stdout";
        const text = String(c.text ?? "");
        this.flushClear();
        const last = this.outputs[this.outputs.length - 1];
        if (last && last.output_type === "stream" && last.name === name) last.text = String(last.text) + text;
        else this.outputs.push({ output_type: "stream", name, text });
        return true;
      }
      case "display_data":
      case "execute_result": {
        this.flushClear();
        const out: DisplayOutput = msg.header.msg_type === "display_data"
          ? { output_type: "display_data", data: c.data ?? {}, metadata: c.metadata ?? {} }
          : { output_type: "execute_result", execution_count: c.execution_count ?? null, data: c.data ?? {}, metadata: c.metadata ?? {} };
        this.outputs.push(out);
        const id = c.transient?.display_id;
        if (typeof id === "string" && id) {
          if (!this.displays.has(id)) this.displays.set(id, new Set());
          this.displays.get(id)!.add(out);
          this.displayOf.set(out, id);
        }
        return true;
      }
      case "update_display_data": {
        const id = c.transient?.display_id;
        const targets = typeof id === "string" ? this.displays.get(id) : undefined;
        if (!targets) return false; // an update for a display this notebook never showed: nothing to replace
        for (const out of targets) {
          out.data = c.data ?? {};
          out.metadata = c.metadata ?? {};
        }
        return true;
      }
      case "error": {
        this.flushClear();
        this.outputs.push({
          output_type: "error",
          ename: String(c.ename ?? "Error"),
          evalue: String(c.evalue ?? ""),
          traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
        });
        return true;
      }
      case "clear_output":
        if (c.wait) this.clearPending = true;
        else this.clearNow();
        return true;
      default:
        return false;
    }
  }

  /** Adds an output made by the runner itself (e.g. a timeout error). */
  push(out: Output): void {
    this.flushClear();
    this.outputs.push(out);
  }

  private flushClear(): void {
    if (this.clearPending) this.clearNow();
  }

  private clearNow(): void {
    this.clearPending = false;
    for (const out of this.outputs) {
      const id = this.displayOf.get(out);
      if (id !== undefined) {
        this.displays.get(id)?.delete(out as DisplayOutput);
        this.displayOf.delete(out);
      }
    }
    this.outputs.length = 0;
  }
}
