#!/usr/bin/env node
/**
 * The `tspool` command:
 *   tspool install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
 *   tspool kernel -f CONNECTION_FILE
 *   tspool run ...            (see runner/run.ts)
 */
import { install, type InstallOptions } from "./kernel/install.js";

const USAGE = `usage:
  tspool install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
  tspool kernel -f CONNECTION_FILE
  tspool run ...   (run notebooks; see \`tspool run --help\`)
`;

class UsageError extends Error {}

function takeValue(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
  return v;
}

function parseInstall(args: string[]): InstallOptions {
  const opts: InstallOptions = {};
  const setTarget = (t: NonNullable<InstallOptions["target"]>) => {
    if (opts.target) throw new UsageError("give only one of --user, --sys-prefix, --prefix DIR");
    opts.target = t;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : takeValue(args, i++, flag));
    switch (flag) {
      case "--user":
        setTarget({ kind: "user" });
        break;
      case "--sys-prefix":
        setTarget({ kind: "sys-prefix" });
        break;
      case "--prefix":
        setTarget({ kind: "prefix", dir: value() });
        break;
      case "--name":
        opts.name = value();
        break;
      case "--display-name":
        opts.displayName = value();
        break;
      default:
        throw new UsageError(`unknown option ${a} for install`);
    }
  }
  return opts;
}

async function runKernel(args: string[]): Promise<void> {
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-f" || args[i] === "--connection-file") file = takeValue(args, i++, args[i]);
    else if (args[i].startsWith("--connection-file=")) file = args[i].slice("--connection-file=".length);
    else throw new UsageError(`unknown option ${args[i]} for kernel`);
  }
  if (!file) throw new UsageError("kernel needs -f CONNECTION_FILE");
  // Start the executor (TypeScript's load, the type checker's warm-up) first, so that it runs
  // alongside the kernel process's own start (zeromq, sockets) rather than after it.
  const { ExecutorHost } = await import("./kernel/executor/host.js");
  const host = new ExecutorHost();
  host.ready().catch(() => undefined); // the kernel reports a failed start when it needs the executor
  const { startKernelProcess } = await import("./kernel/main.js");
  await startKernelProcess(file, host);
}

/** The notebook runner (runner/): its entry module exports `main(argv)` returning an exit code. */
async function loadRunner(): Promise<{ main(argv: string[]): Promise<number | void> }> {
  for (const entry of ["./runner/run.js", "./runner/main.js"]) {
    try {
      return await import(entry);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND" || !String((e as Error).message).includes(entry.slice(2))) throw e;
    }
  }
  throw new Error("this install has no notebook runner (dist/runner/ is missing)");
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "install": {
      const { kernelDir, warning } = install(parseInstall(rest));
      process.stdout.write(`Installed kernelspec ${kernelDir}\n`);
      if (warning) process.stderr.write(`tspool install: warning: ${warning}\n`);
      return;
    }
    case "kernel":
      return runKernel(rest);
    case "run": {
      const runner = await loadRunner();
      const code = await runner.main(rest);
      if (typeof code === "number") process.exitCode = code;
      return;
    }
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(USAGE);
      return;
    case "-v":
    case "--version": {
      const { tspoolVersion } = await import("./kernel/package-info.js");
      process.stdout.write(tspoolVersion + "\n");
      return;
    }
    default:
      throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "missing command");
  }
}

main(process.argv.slice(2)).catch((e: Error) => {
  if (e instanceof UsageError) process.stderr.write(`tspool: ${e.message}\n${USAGE}`);
  else process.stderr.write(`tspool: ${e.message}\n`);
  process.exit(2);
});
