/**
 * `tspool run NOTEBOOK.ipynb [--out EXECUTED.ipynb] [--timeout SECONDS] [--allow-errors]`
 *
 * Runs a notebook without Jupyter: starts the tspool kernel on a fresh connection file, executes
 * every code cell in order as a Jupyter client over zeromq, prints the outputs, writes the
 * executed notebook, and always shuts the kernel down. A cell tagged `raises-exception` may fail
 * without stopping the run, as under nbclient. Exit status: 0 when every cell ran (or
 * --allow-errors), 1 when a cell failed or the kernel could not run the notebook, 2 for bad
 * arguments or an unreadable notebook, 130 when the user interrupted twice, 143/129 when stopped
 * by SIGTERM/SIGHUP (the kernel is shut down in every case).
 */
import { dirname, resolve } from "node:path";
import { parseRunArgs, RUN_USAGE, UsageError, type RunOptions } from "./args.js";
import { KernelClient, delay } from "./client.js";
import { writeConnectionFile } from "./connection-file.js";
import { KernelProcess } from "./kernel-process.js";
import { joinSource, readNotebook, writeNotebook, type Notebook } from "./notebook.js";
import { OutputRecorder } from "./output-recorder.js";
import { errorText, TerminalPrinter } from "./terminal.js";
import type { JupyterMessage } from "../kernel/wire/message.js";

const READY_TIMEOUT_MS = 60_000;
/** After interrupting a cell that ran out of time, how long to wait for the kernel to settle. */
const AFTER_INTERRUPT_MS = 10_000;
/** While a cell keeps running after Ctrl-C, the interrupt is sent again this often. */
const INTERRUPT_REPEAT_MS = 2_000;

type CellOutcome = "ok" | "error" | "timeout" | "kernel-died" | "user-abort";

export async function main(argv: string[]): Promise<number> {
  let opts: RunOptions | null;
  try {
    opts = parseRunArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tspool run: ${e.message}\n\n${RUN_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (!opts) {
    process.stdout.write(RUN_USAGE + "\n");
    return 0;
  }
  let nb: Notebook;
  try {
    nb = readNotebook(opts.notebook);
  } catch (e) {
    process.stderr.write(`tspool run: ${(e as Error).message}\n`);
    return 2;
  }
  const spec = nb.metadata.kernelspec?.name;
  const language = nb.metadata.kernelspec?.language ?? nb.metadata.language_info?.name;
  if ((typeof spec === "string" && !spec.includes("tspool")) || (typeof language === "string" && !/typescript/i.test(language))) {
    process.stderr.write(
      `tspool run: note: ${opts.notebook} was written for the ${JSON.stringify(spec ?? language)} kernel; running it with tspool (TypeScript) anyway.\n`,
    );
  }
  return runNotebook(nb, opts);
}

async function runNotebook(nb: Notebook, opts: RunOptions): Promise<number> {
  const printer = new TerminalPrinter();
  const conn = await writeConnectionFile();
  // TSPOOL_RUN_KERNEL_ARGV (a JSON array, "{connection_file}" substituted) runs another kernel: for debugging the runner.
  const custom = process.env.TSPOOL_RUN_KERNEL_ARGV;
  const command = custom ? (JSON.parse(custom) as string[]).map((a) => a.replace("{connection_file}", conn.path)) : undefined;
  const kernel = new KernelProcess(conn.path, dirname(resolve(opts.notebook)), command);
  const client = new KernelClient(conn.info);
  let userAbort = false;
  let interrupts = 0;
  let interruptSentAt = 0;
  const sendInterrupt = () => {
    interruptSentAt = Date.now();
    client.send("control", "interrupt_request", {});
  };
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      printer.note("\ntspool run: interrupting the running cell (press Ctrl-C again to stop the run)");
      sendInterrupt();
    } else {
      userAbort = true;
      printer.note("\ntspool run: stopping");
    }
  };
  // Asked to stop (kill, closed terminal): end the run and still shut the kernel down.
  let stopSignal: NodeJS.Signals | null = null;
  const onStop = (signal: NodeJS.Signals) => {
    stopSignal = signal;
    userAbort = true;
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onStop);
  process.on("SIGHUP", onStop);
  let status = 1;
  try {
    client.connect();
    let info: Record<string, any>;
    try {
      info = await client.waitForReady(READY_TIMEOUT_MS, () =>
        kernel.hasExited ? `the kernel ${kernel.exitDescription} while starting` : userAbort ? "stopped by the user" : null);
    } catch (e) {
      printer.note(`tspool run: could not start the kernel: ${(e as Error).message}`);
      const log = kernel.recentOutput();
      if (log) printer.note(`kernel output:\n${log}`);
      return 1;
    }
    if (info.language_info) nb.metadata.language_info = info.language_info;

    const recorder = new OutputRecorder();
    let current: string | null = null;
    const seen = { idle: false };
    client.onIopub((m) => {
      const parent = m.parent_header.msg_id;
      if (current !== null && parent === current) {
        if (m.header.msg_type === "status" && m.content.execution_state === "idle") seen.idle = true;
        else if (recorder.apply(m)) printer.show(m);
      } else if (m.header.msg_type === "update_display_data") {
        recorder.apply(m); // a display of an earlier cell, updated from the background
      }
    });

    const codeCells = nb.cells.filter((c) => c.cell_type === "code");
    let failed = false;
    let kernelDied = false;
    let position = 0;
    for (const cell of codeCells) {
      position++;
      const code = joinSource(cell.source);
      cell.outputs = recorder.startCell();
      cell.execution_count = null;
      if (code.trim() === "") continue;
      printer.cellHeader(position, codeCells.length, code.split("\n").find((l) => l.trim()) ?? "");
      seen.idle = false;
      interrupts = 0;
      interruptSentAt = 0;
      const { id, reply } = client.send("shell", "execute_request", {
        code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
      });
      current = id;
      // A Ctrl-C interrupt that reaches the kernel before the cell really starts (while it is still
      // queued or being compiled) may not stop it: repeat it while the same cell keeps running.
      const onTick = () => {
        if (interruptSentAt && Date.now() - interruptSentAt > INTERRUPT_REPEAT_MS) sendInterrupt();
      };
      const { outcome, content } = await waitForCell(reply, seen, kernel, opts.timeoutMs, () => userAbort, client, onTick);
      if (typeof content?.execution_count === "number") cell.execution_count = content.execution_count;
      if (outcome === "timeout") {
        const text = `Cell timed out: it ran longer than ${opts.timeoutMs / 1000} s (raise the limit with --timeout SECONDS).`;
        recorder.push({ output_type: "error", ename: "CellTimeoutError", evalue: text, traceback: [`CellTimeoutError: ${text}`] });
      } else if (outcome === "kernel-died") {
        const text = `The kernel ${kernel.exitDescription} while running this cell.`;
        recorder.push({ output_type: "error", ename: "DeadKernelError", evalue: text, traceback: [`DeadKernelError: ${text}`] });
      }
      if (outcome === "error" && content && !cell.outputs.some((o) => o.output_type === "error")) {
        // Normally the error arrived (and was printed) on iopub; if not, the reply still says what it was.
        recorder.push({ output_type: "error", ename: String(content.ename ?? "Error"), evalue: String(content.evalue ?? ""), traceback: (content.traceback ?? []).map(String) });
        printer.note(errorText(content));
      }
      current = null;
      printer.cellEnd();
      if (outcome === "timeout" || outcome === "kernel-died") printer.note(String((cell.outputs.at(-1) as any).traceback[0]));
      // A cell tagged "raises-exception" is meant to fail (the same convention as nbclient/nbval).
      if (outcome === "error" && expectsError(cell)) continue;
      if (outcome !== "ok") {
        failed = true;
        kernelDied ||= outcome === "kernel-died";
        if (outcome === "user-abort" || outcome === "kernel-died" || !opts.allowErrors) {
          const why = outcome === "error" && interrupts > 0 ? "the cell was interrupted with Ctrl-C" : describe(outcome);
          printer.note(`tspool run: stopped at cell ${position} of ${codeCells.length} (${why}).`);
          break;
        }
      }
    }
    writeNotebook(opts.out, nb);
    printer.note(`tspool run: wrote ${opts.out}`);
    // --allow-errors forgives failing cells, not a run that could not reach the end.
    status = stopSignal === "SIGTERM" ? 143 : stopSignal === "SIGHUP" ? 129 : userAbort ? 130 : kernelDied || (failed && !opts.allowErrors) ? 1 : 0;
    return status;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onStop);
    process.off("SIGHUP", onStop);
    await shutdown(client, kernel);
    conn.remove();
  }
}

function expectsError(cell: { metadata: Record<string, unknown> }): boolean {
  const tags = cell.metadata.tags;
  return Array.isArray(tags) && tags.includes("raises-exception");
}

function describe(outcome: CellOutcome): string {
  return {
    ok: "ok",
    error: "the cell raised an error; use --allow-errors to keep going",
    timeout: "the cell timed out",
    "kernel-died": "the kernel died",
    "user-abort": "interrupted by the user",
  }[outcome];
}

async function waitForCell(
  reply: Promise<JupyterMessage>,
  seen: { idle: boolean },
  kernel: KernelProcess,
  timeoutMs: number,
  userAbort: () => boolean,
  client: KernelClient,
  onTick: () => void,
): Promise<{ outcome: CellOutcome; content: Record<string, any> | null }> {
  let replyContent: Record<string, any> | null = null;
  reply.then((m) => { replyContent = m.content; }, () => {});
  const start = Date.now();
  let deadline = timeoutMs > 0 ? start + timeoutMs : Infinity;
  let timedOut = false;
  for (;;) {
    if (replyContent && seen.idle) break;
    if (kernel.hasExited) return { outcome: "kernel-died", content: replyContent };
    if (userAbort()) return { outcome: "user-abort", content: replyContent };
    onTick();
    if (Date.now() > deadline) {
      if (timedOut) return { outcome: "timeout", content: replyContent }; // the kernel did not settle after the interrupt either
      timedOut = true;
      client.send("control", "interrupt_request", {});
      deadline = Date.now() + AFTER_INTERRUPT_MS;
    }
    await delay(10);
  }
  const content = replyContent as unknown as Record<string, any>;
  if (timedOut) return { outcome: "timeout", content };
  return { outcome: content.status === "ok" ? "ok" : "error", content };
}

async function shutdown(client: KernelClient, kernel: KernelProcess): Promise<void> {
  if (!kernel.hasExited) {
    const { reply } = client.send("control", "shutdown_request", { restart: false });
    await Promise.race([reply.catch(() => null), kernel.exited, delay(5000)]);
  }
  client.close();
  await kernel.stop(5000);
}

