/**
 * Keeps one warning of Node's out of a worker's output: tasks run as scripts that use the main
 * context's module loader for `import()` (see code-cache.ts), and Node 20 says, once per
 * worker, "ExperimentalWarning: vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is an experimental feature".
 * It is about tspool's own plumbing, not the task, and would be repeated by every worker.
 * Every other warning is left alone.
 */
const LOADER_WARNING = "vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is an experimental feature";

export function filterLoaderWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const message = typeof warning === "string" ? warning : warning?.message;
    const type = typeof warning === "string" ? (typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type) : warning?.name;
    if (type === "ExperimentalWarning" && typeof message === "string" && message.includes(LOADER_WARNING)) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}
