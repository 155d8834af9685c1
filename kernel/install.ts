/**
 * `tspool install`: writes a kernelspec the way `python -m ipykernel install` does, into
 * `<prefix>/share/jupyter/kernels/<name>/kernel.json` (or the user's Jupyter data dir), from the
 * kernel.json template with absolute node and CLI paths so it works from any directory.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve, sep } from "node:path";
import { jupyterDataDir } from "./history.js";
import { LOGO_SVG } from "./logo.js";
import { cliPath, packageRoot } from "./package-info.js";

export interface InstallOptions {
  /** Where: "user" (default), "sys-prefix", or an explicit prefix directory. */
  target?: { kind: "user" } | { kind: "sys-prefix" } | { kind: "prefix"; dir: string };
  name?: string;
  displayName?: string;
  env?: NodeJS.ProcessEnv;
}

export interface InstallResult {
  kernelDir: string;
  spec: Record<string, unknown>;
  /** Something the user should know about the kernelspec written (e.g. it points into a cache). */
  warning?: string;
}

const NAME_RE = /^[a-z0-9._-]+$/i;

/** Python's sys.prefix, asked from python3 (then python). */
export function pythonSysPrefix(): string {
  for (const py of ["python3", "python"]) {
    try {
      return execFileSync(py, ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" }).trim();
    } catch {
      /* try the next */
    }
  }
  throw new Error("--sys-prefix needs Python to find sys.prefix, but neither python3 nor python could be run. Use --prefix DIR instead.");
}

export function kernelsDir(target: NonNullable<InstallOptions["target"]>, env: NodeJS.ProcessEnv = process.env): string {
  switch (target.kind) {
    case "user":
      return join(jupyterDataDir(env), "kernels");
    case "sys-prefix":
      return join(pythonSysPrefix(), "share", "jupyter", "kernels");
    case "prefix":
      return join(resolve(target.dir), "share", "jupyter", "kernels");
  }
}

/** The kernelspec tspool ships (its kernel.json), which `install` completes with the command to run. */
export function kernelspecTemplate(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot, "kernel.json"), "utf8"));
}

export function install(options: InstallOptions = {}): InstallResult {
  const name = options.name ?? "tspool";
  if (!NAME_RE.test(name)) {
    throw new Error(`Invalid kernel name ${JSON.stringify(name)}: use only letters, digits, ".", "_" and "-".`);
  }
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} does not exist: build tspool first (npm run build).`);
  }
  const template = kernelspecTemplate();
  const spec: Record<string, unknown> = {
    ...template,
    argv: [process.execPath, cliPath, "kernel", "-f", "{connection_file}"],
    display_name: options.displayName ?? template.display_name,
    language: "typescript",
  };
  if (!isAbsolute(process.execPath)) throw new Error(`node's path ${process.execPath} is not absolute`);
  const kernelDir = join(kernelsDir(options.target ?? { kind: "user" }, options.env), name);
  mkdirSync(kernelDir, { recursive: true });
  writeFileSync(join(kernelDir, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
  writeFileSync(join(kernelDir, "logo-svg.svg"), LOGO_SVG);
  return { kernelDir, spec, ...(runsFromNpxCache(cliPath) ? { warning: NPX_CACHE_WARNING } : {}) };
}

/** `npx --package tspool tspool install` runs tspool from npm's npx cache, which npm may clean at any time. */
function runsFromNpxCache(path: string): boolean {
  return path.split(sep).includes("_npx");
}

const NPX_CACHE_WARNING =
  "this kernelspec runs tspool from npm's npx cache, which npm may clean at any time (the kernel then fails to start). " +
  "For a kernelspec that lasts, install tspool first (npm install tspool in a project, or npm install -g tspool) and run that copy's `tspool install`.";
