/**
 * Waiting on a kernel's iopub messages, for tests that act while a cell runs (interrupt it when it
 * has printed something) and look at what came after it ended.
 */
import type { JupyterMessage } from "../../kernel/wire/message.js";
import type { ExecuteResult, KernelClient } from "./kernel-client.js";

/** The text a message shows: a display's text/plain or a stream's text. */
export function iopubText(m: JupyterMessage): string {
  return String(m.content?.data?.["text/plain"] ?? m.content?.text ?? "");
}

/** Waits (20 s at most) until the text of the iopub messages published since index `from` satisfies `pred`. */
export async function waitForIopub(client: KernelClient, from: number, pred: (all: string) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const all = client.iopubLog.slice(from).map(iopubText).join("\n");
    if (pred(all)) return;
    if (Date.now() > deadline) throw new Error(`the awaited output never came; iopub since: ${all.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface InterruptedCell {
  r: ExecuteResult;
  /** Every iopub message since the cell was sent (of any parent). */
  log: JupyterMessage[];
  /** The cell's own messages that came after its `idle` status. */
  late: JupyterMessage[];
  /** Date.now() when the client had the cell's reply and idle status (the kernel ended it a little before). */
  endedAt: number;
}

/**
 * Runs `code`, interrupts the kernel once `when` holds for the output since the cell was sent
 * (or `when` ms after sending it), waits for the cell to end, then `afterMs` more for anything it
 * might still send.
 */
export async function interruptCell(client: KernelClient, code: string, when: ((all: string) => boolean) | number, afterMs = 1500): Promise<InterruptedCell> {
  const from = client.iopubLog.length;
  const { done: running } = await client.startExecute(code);
  if (typeof when === "number") await new Promise((res) => setTimeout(res, when));
  else await waitForIopub(client, from, when);
  await client.request("control", "interrupt_request", {});
  const r = await running;
  const endedAt = Date.now();
  await new Promise((res) => setTimeout(res, afterMs));
  const log = client.iopubLog.slice(from);
  const idle = log.findIndex((m) => m.parent_header.msg_id === r.msgId && m.header.msg_type === "status" && m.content.execution_state === "idle");
  if (idle < 0) throw new Error("the interrupted cell never went idle");
  const late = log.slice(idle + 1).filter((m) => m.parent_header.msg_id === r.msgId);
  return { r, log, late, endedAt };
}
