/**
 * Command-line arguments of `tspool run`.
 */

export interface RunOptions {
  notebook: string;
  /** Where the executed notebook is written. */
  out: string;
  /** Per-cell time limit in milliseconds; 0 = none. */
  timeoutMs: number;
  allowErrors: boolean;
}

export const RUN_USAGE = `Usage: tspool run NOTEBOOK.ipynb [--out EXECUTED.ipynb] [--timeout SECONDS] [--allow-errors]

Executes every code cell of NOTEBOOK in order with the tspool kernel (started in the notebook's
directory), prints each output's text to the terminal and writes the executed notebook (default:
NOTEBOOK.executed.ipynb beside it). Stops at the first failing cell, except cells tagged
"raises-exception". Ctrl-C interrupts the running cell; twice stops the run. On a terminal, cells
may ask for input.

  --out PATH        where to write the executed notebook
  --timeout SECONDS time limit for each cell (default 600; 0 = no limit)
  --allow-errors    keep going after a failing cell (the exit status is still 0)
  -h, --help        show this help`;

export const DEFAULT_TIMEOUT_SECONDS = 600;

export class UsageError extends Error {}

/** Default output path: `dir/name.ipynb` -> `dir/name.executed.ipynb`. */
export function defaultOutPath(notebook: string): string {
  return notebook.toLowerCase().endsWith(".ipynb")
    ? notebook.slice(0, -".ipynb".length) + ".executed.ipynb"
    : notebook + ".executed.ipynb";
}

/** Parses the arguments after `run`. Returns null for --help. Throws UsageError on bad input. */
export function parseRunArgs(argv: readonly string[]): RunOptions | null {
  let notebook: string | undefined;
  let out: string | undefined;
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  let allowErrors = false;
  const valueOf = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith("--") && v.length > 2)) throw new UsageError(`${flag} needs a value.`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    switch (arg) {
      case "-h":
      case "--help":
        return null;
      case "--out":
      case "-o":
        out = inline ?? valueOf(i++, arg);
        break;
      case "--timeout": {
        const text = inline ?? valueOf(i++, arg);
        const n = Number(text);
        if (!Number.isFinite(n) || n < 0) {
          throw new UsageError(`--timeout takes a number of seconds (0 for no limit), got ${JSON.stringify(text)}.`);
        }
        timeoutSeconds = n;
        break;
      }
      case "--allow-errors":
        if (inline !== undefined) throw new UsageError("--allow-errors takes no value.");
        allowErrors = true;
        break;
      default:
        if (arg.startsWith("-") && arg !== "-") {
          const known = ["--out", "--timeout", "--allow-errors", "--help"];
          const close = known.find((k) => k.startsWith(arg.replace(/^-+/, "--").slice(0, 4)));
          throw new UsageError(`Unknown option ${arg}.${close ? ` Did you mean ${close}?` : ""}`);
        }
        if (notebook !== undefined) {
          throw new UsageError(`Only one notebook can be run at a time (got ${JSON.stringify(notebook)} and ${JSON.stringify(arg)}).`);
        }
        notebook = arg;
    }
  }
  if (notebook === undefined) throw new UsageError("Missing the notebook to run, e.g. `tspool run notebooks/01-getting-started.ipynb`.");
  return { notebook, out: out ?? defaultOutPath(notebook), timeoutMs: Math.round(timeoutSeconds * 1000), allowErrors };
}
