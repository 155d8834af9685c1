/**
 * `tspool run NOTEBOOK.ipynb [--out EXECUTED.ipynb] [--timeout SECONDS] [--allow-errors]`
 *
 * Runs a notebook without Jupyter: starts the tspool kernel on a fresh connection file, executes
 * every code cell in order as a Jupyter client over zeromq, prints the outputs, writes the
 * executed notebook, and always shuts the kernel down. A cell tagged `raises-exception` may fail
 * without stopping the run, as under nbclient. Exit status: 0 when every cell ran (or
 * --allow-errors), 1 when a cell failed or the kernel could not run the notebook, 2 for bad
 * arguments or an unreadable notebook, 130 when the user interrupted twice, 143/129 when stopped
 * by SIGTERM/SIGHUP, 141 when its output's reader went away (`| head`): the kernel is shut down in
 * every case.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseRunArgs, RUN_USAGE, UsageError, type RunOptions } from "./args.js";
import { KernelClient, delay } from "./client.js";
import { writeConnectionFile } from "./connection-file.js";
import { KernelProcess } from "./kernel-process.js";
import { joinSource, readNotebook, writeNotebook, type Notebook } from "./notebook.js";
import { CellRunner, type CellOutcome } from "./cell-runner.js";
import { adoptTspoolKernelspec } from "./kernelspec.js";
import { OutputRecorder } from "./output-recorder.js";
import { TerminalPrinter } from "./terminal.js";

const READY_TIMEOUT_MS = 60_000;

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
  // Checked before anything runs: a run that cannot write its result should not take its time first.
  const unwritable = whyUnwritable(opts.out);
  if (unwritable) {
    process.stderr.write(`tspool run: cannot write ${opts.out}: ${unwritable}.\n`);
    return 2;
  }
  // The executed notebook records the kernel that ran it.
  const writtenFor = adoptTspoolKernelspec(nb);
  if (writtenFor) {
    process.stderr.write(
      `tspool run: note: ${opts.notebook} was written for the ${JSON.stringify(writtenFor)} kernel; running it with tspool (TypeScript) anyway.\n`,
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
  const recorder = new OutputRecorder();
  const cells = new CellRunner(client, kernel, recorder, printer, opts.timeoutMs, Boolean(process.stdin.isTTY));

  // Ctrl-C once interrupts the running cell; twice stops the run. SIGTERM/SIGHUP (kill, closed
  // terminal) stop it too. In every case the kernel is shut down.
  let stopSignal: NodeJS.Signals | null = null;
  let sigints = 0;
  const onSigint = () => {
    sigints++;
    if (sigints === 1) {
      printer.note("\ntspool run: interrupting the running cell (press Ctrl-C again to stop the run)");
      cells.interrupt();
    } else {
      stopSignal = "SIGINT";
      printer.note("\ntspool run: stopping");
    }
  };
  const onStop = (signal: NodeJS.Signals) => {
    stopSignal = signal;
  };
  // Output to a reader that went away (`tspool run nb.ipynb | head`): writing fails with EPIPE. Stop
  // as a SIGPIPE would, but shut the kernel down first instead of crashing and leaving it running.
  const onOutputError = () => {
    stopSignal ??= "SIGPIPE";
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onStop);
  process.on("SIGHUP", onStop);
  process.stdout.on("error", onOutputError);
  process.stderr.on("error", onOutputError);
  const stopRequested = () => stopSignal !== null;
  try {
    client.connect();
    let info: Record<string, any>;
    try {
      info = await client.waitForReady(READY_TIMEOUT_MS, () =>
        kernel.hasExited ? `the kernel ${kernel.exitDescription} while starting` : stopRequested() ? "stopped by the user" : null);
    } catch (e) {
      printer.note(`tspool run: could not start the kernel: ${(e as Error).message}`);
      const log = kernel.recentOutput();
      if (log) printer.note(`kernel output:\n${log}`);
      return 1;
    }
    if (info.language_info) nb.metadata.language_info = info.language_info;

    const codeCells = nb.cells.filter((c) => c.cell_type === "code");
    let failed = false;
    let kernelDied = false;
    let position = 0;
    let ran = 0;
    const started = Date.now();
    for (const cell of codeCells) {
      position++;
      const code = joinSource(cell.source);
      cell.outputs = recorder.startCell();
      cell.execution_count = null;
      if (code.trim() === "") continue;
      printer.cellHeader(position, codeCells.length, code.split("\n").find((l) => l.trim()) ?? "");
      sigints = 0;
      const { outcome, executionCount, interrupted } = await cells.run(code, cell.outputs, stopRequested);
      ran++;
      cell.execution_count = executionCount;
      // A cell tagged "raises-exception" is meant to fail (the same convention as nbclient/nbval).
      if (outcome === "ok" || (outcome === "error" && expectsError(cell))) continue;
      failed = true;
      kernelDied ||= outcome === "kernel-died";
      if (outcome === "user-abort" || outcome === "kernel-died" || !opts.allowErrors) {
        const why = outcome === "error" && interrupted
          ? "the cell was interrupted with Ctrl-C"
          : outcome === "user-abort" && stopSignal ? STOPPED_BY[stopSignal] : describe(outcome);
        printer.note(`tspool run: stopped at cell ${position} of ${codeCells.length} (${why}).`);
        break;
      }
    }
    try {
      writeNotebook(opts.out, nb);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      printer.note(`tspool run: ran ${ran} cell${ran === 1 ? "" : "s"} in ${seconds} s; wrote ${opts.out}`);
    } catch (e) {
      printer.note(`tspool run: could not write ${opts.out}: ${(e as Error).message}`);
      return 1;
    }
    const signalStatus: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGPIPE: 141 };
    if (stopSignal) return signalStatus[stopSignal] ?? 1;
    // --allow-errors forgives failing cells, not a run that could not reach the end.
    return kernelDied || (failed && !opts.allowErrors) ? 1 : 0;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onStop);
    process.off("SIGHUP", onStop);
    // (the output error listeners stay: a late write to the closed pipe must not crash the exit either)
    await shutdown(client, kernel);
    conn.remove();
  }
}

/** Why the run was stopped, by the signal (or, for SIGPIPE, the write error) that stopped it. */
const STOPPED_BY: Record<string, string> = {
  SIGINT: "stopped with Ctrl-C",
  SIGTERM: "stopped by SIGTERM",
  SIGHUP: "stopped by SIGHUP: the terminal closed",
  SIGPIPE: "the reader of its output went away",
};

/** Why `out` cannot be written (checked before the notebook runs), or undefined when it can. */
function whyUnwritable(out: string): string | undefined {
  const path = resolve(out);
  const dir = dirname(path);
  if (!existsSync(dir)) return `the directory ${dir} does not exist (create it, or pick another --out)`;
  const exists = existsSync(path);
  if (exists && statSync(path).isDirectory()) {
    return `it is a directory (give the executed notebook's file name, e.g. --out ${join(out, "executed.ipynb")})`;
  }
  try {
    accessSync(exists ? path : dir, constants.W_OK);
  } catch {
    return `${exists ? "the file" : `the directory ${dir}`} is not writable (pick another --out)`;
  }
  return undefined;
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
    "user-abort": "stopped on request",
  }[outcome];
}

async function shutdown(client: KernelClient, kernel: KernelProcess): Promise<void> {
  if (!kernel.hasExited) {
    const { reply } = client.send("control", "shutdown_request", { restart: false });
    await Promise.race([reply.catch(() => null), kernel.exited, delay(5000)]);
  }
  client.close();
  await kernel.stop(5000);
}

