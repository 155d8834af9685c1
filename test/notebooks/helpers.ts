/**
 * Shared helpers for the notebook tests: build small notebooks, run `tspool run` as a real
 * child process, and read outputs of executed notebooks.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
export const CLI = join(ROOT, "dist", "cli.js");
export const NOTEBOOKS = join(ROOT, "notebooks");

export interface ExecutedCell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: any[];
}
export interface ExecutedNotebook { nbformat: number; metadata: any; cells: ExecutedCell[] }

export function tempDir(prefix = "tspool-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Writes an nbformat 4 notebook with one code cell per source string (markdown when it starts
 * with "#md ", a code cell tagged "raises-exception" when it starts with "#raises ").
 */
export function writeNotebook(dir: string, name: string, sources: string[]): string {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tspool", display_name: "TypeScript (tspool)", language: "typescript" } },
    cells: sources.map((s, i) =>
      s.startsWith("#md ")
        ? { cell_type: "markdown", id: `m${i}`, metadata: {}, source: s.slice(4) }
        : s.startsWith("#raises ")
          ? { cell_type: "code", id: `c${i}`, metadata: { tags: ["raises-exception"] }, source: s.slice(8), outputs: [], execution_count: null }
          : { cell_type: "code", id: `c${i}`, metadata: {}, source: s, outputs: [], execution_count: null },
    ),
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(nb, null, 1));
  return path;
}

export function readExecuted(path: string): ExecutedNotebook {
  return JSON.parse(readFileSync(path, "utf8"));
}

export interface RunResult { code: number | null; signal: string | null; stdout: string; stderr: string }

/** Runs `node dist/cli.js ARGS` to completion (with a hard safety limit far above any test's need). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; limitMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // Past the limit: SIGTERM lets `tspool run` shut its kernel down; SIGKILL if even that hangs.
    const limit = setTimeout(() => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
    }, opts.limitMs ?? 240_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export const text = (v: unknown): string => (Array.isArray(v) ? v.join("") : String(v ?? ""));

/** Everything a cell shows as text: streams, text/plain of displays and results, error names/values/tracebacks. */
export function cellText(cell: ExecutedCell): string {
  return (cell.outputs ?? [])
    .map((o) => {
      if (o.output_type === "stream") return text(o.text);
      if (o.output_type === "error") return `${o.ename}: ${o.evalue}\n${(o.traceback ?? []).join("\n")}`;
      return text(o.data?.["text/plain"]);
    })
    .join("\n");
}

export const codeCells = (nb: ExecutedNotebook): ExecutedCell[] => nb.cells.filter((c) => c.cell_type === "code");

/** The code cell whose source contains `marker` (exactly one must). */
export function cellWith(nb: ExecutedNotebook, marker: string): ExecutedCell {
  const found = codeCells(nb).filter((c) => text(c.source).includes(marker));
  if (found.length !== 1) throw new Error(`expected one code cell containing ${JSON.stringify(marker)}, found ${found.length}`);
  return found[0];
}
