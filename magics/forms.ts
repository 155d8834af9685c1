/**
 * The grammar of every magic the kernel knows, as data: which names exist as line (`%`) and cell
 * (`%%`) magics, the `%pool` subcommands and their options, and the one-line usage of each form.
 * The parser validates against it, the "did you mean" suggestions search it, and `%pool help` /
 * `%lsmagic` print it.
 */

export type OptionKind = "flag" | "count" | "name" | "targets" | "ms";

export interface OptionSpec {
  name: string; // without the leading dashes
  kind: OptionKind;
  placeholder?: string; // shown in usage, e.g. K for --chunksize K
  example?: string; // a valid value, used in error messages
  help: string;
}

export const MAP_OPTIONS: OptionSpec[] = [
  { name: "chunksize", kind: "count", placeholder: "K", example: "100", help: "items sent to a worker at a time (default: automatic)" },
  { name: "unordered", kind: "flag", help: "results in completion order instead of input order" },
  { name: "out", kind: "name", placeholder: "NAME", example: "results", help: "also bind the results to NAME for later cells" },
  { name: "timeline", kind: "flag", help: "add a per-worker Gantt chart of the tasks to the summary" },
  { name: "retries", kind: "count", placeholder: "R", example: "1", help: "times a task is retried when its worker dies (default 1)" },
  { name: "timeout", kind: "ms", placeholder: "MS", example: "5000", help: "fail a task that runs longer than MS milliseconds" },
];

export const RUN_OPTIONS: OptionSpec[] = [
  { name: "targets", kind: "targets", placeholder: "LIST", example: "0,2", help: "worker ids to run on (default: all)" },
  { name: "out", kind: "name", placeholder: "NAME", example: "results", help: "also bind the per-worker values to NAME" },
];

export const START_OPTIONS: OptionSpec[] = [
  { name: "threads", kind: "flag", help: "use worker threads instead of child processes" },
];

export interface SubcommandSpec {
  name: string;
  cell: boolean; // %%pool NAME (true) or %pool NAME (false)
  usage: string; // arguments after the subcommand name
  example: string; // arguments of a valid example
  help: string;
  options: OptionSpec[];
}

export const POOL_SUBCOMMANDS: SubcommandSpec[] = [
  { name: "start", cell: false, usage: "[N] [--threads]", example: "2", help: "start the notebook's pool with N workers (default: CPU count), or resize it", options: START_OPTIONS },
  { name: "status", cell: false, usage: "", example: "", help: "one row per worker: id, pid, state, tasks done, busy time, memory", options: [] },
  { name: "stop", cell: false, usage: "", example: "", help: "stop the pool's workers", options: [] },
  { name: "restart", cell: false, usage: "", example: "", help: "replace every worker with a fresh one (worker state is lost)", options: [] },
  { name: "push", cell: false, usage: "NAME...", example: "data", help: "copy the current value of each NAME to every worker's globalThis", options: [] },
  { name: "pull", cell: false, usage: "NAME", example: "counter", help: "each worker's value of globalThis.NAME, in worker-id order", options: [] },
  { name: "help", cell: false, usage: "", example: "", help: "this text", options: [] },
  { name: "map", cell: true, usage: "ITERABLE [--chunksize K] [--unordered] [--out NAME] [--timeline] [--retries R] [--timeout MS]", example: "[1, 2, 3]", help: "apply the function the body evaluates to, to each element of ITERABLE, across the workers", options: MAP_OPTIONS },
  { name: "starmap", cell: true, usage: "ITERABLE [--chunksize K] [--unordered] [--out NAME] [--timeline] [--retries R] [--timeout MS]", example: "[[1, 2], [3, 4]]", help: "like map, spreading each element as the function's arguments", options: MAP_OPTIONS },
  { name: "run", cell: true, usage: "[--targets LIST] [--out NAME]", example: "", help: "run the body on every (or each listed) worker; the result is each worker's last value", options: RUN_OPTIONS },
];

export interface MagicSpec {
  name: string;
  line: boolean;
  cell: boolean;
  lineUsage?: string;
  cellUsage?: string;
  help: string;
}

export const MAGICS: MagicSpec[] = [
  { name: "pool", line: true, cell: true, help: "the notebook's worker pool (see %pool help)" },
  { name: "lsmagic", line: true, cell: false, lineUsage: "", help: "list the available magics" },
  { name: "time", line: true, cell: true, lineUsage: "STATEMENT", cellUsage: "", help: "run once and report the wall and CPU time" },
  { name: "timeit", line: true, cell: true, lineUsage: "[-n N] [-r R] STATEMENT", cellUsage: "[-n N] [-r R]", help: "run many times and report the mean ± standard deviation per loop" },
  { name: "who", line: true, cell: false, lineUsage: "", help: "list the names defined by earlier cells" },
];

/** Every valid first-line form, e.g. "%%pool map ITERABLE [--chunksize K] ...". */
export function allUsageLines(): string[] {
  const lines: string[] = [];
  for (const m of MAGICS) {
    if (m.name === "pool") {
      for (const s of POOL_SUBCOMMANDS) lines.push(`${s.cell ? "%%" : "%"}pool ${s.name}${s.usage ? " " + s.usage : ""}`);
      continue;
    }
    if (m.line) lines.push(`%${m.name}${m.lineUsage ? " " + m.lineUsage : ""}`);
    if (m.cell) lines.push(`%%${m.name}${m.cellUsage ? " " + m.cellUsage : ""}`);
  }
  return lines;
}
