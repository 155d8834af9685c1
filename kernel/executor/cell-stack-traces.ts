/**
 * The executor's Error.prepareStackTrace: `err.stack` of an error whose stack holds cell code
 * gives each cell frame the cell's own line:column (through StackMapper) and leaves out the
 * kernel's frames, whether the cell throws the error, prints it, shows it as its value or reads
 * its `stack`. Stacks without cell code keep Node's own formatting, frame for frame.
 *
 * Node calls `Error.prepareStackTrace` when it is a function. Recent Node versions (20.20 among
 * them) install their own formatter there by default: this one keeps it for the message line, so
 * that Node's errors keep their `TypeError [ERR_X]: ...` header (where Node has none there, the
 * line is `Error.prototype.toString`'s, without that code). Code that installs its own formatter, for good or
 * for a moment (`Error.prepareStackTrace = (_, sites) => sites` to read raw call sites), gets what
 * it asks for; one that wraps the formatter it replaced still gets the mapped stack; the
 * traceback of an uncaught error maps whatever stack it finds, and only once (see stack.ts).
 */
import type { StackMapper } from "./stack.js";

type Formatter = (error: Error, sites: NodeJS.CallSite[]) => unknown;

export function installCellStackTraces(mapper: StackMapper): void {
  const nodeFormatter = typeof Error.prepareStackTrace === "function" ? (Error.prepareStackTrace as Formatter) : undefined;

  /** The message line(s) as Node writes them: `Name: message`, with the code of Node's own errors. */
  const header = (error: Error): string => {
    if (nodeFormatter) return String(nodeFormatter(error, []));
    try {
      return Error.prototype.toString.call(error);
    } catch {
      return "<error>";
    }
  };

  /** Node's formatting of the whole stack (what Node does without this formatter). */
  const asNodeWould = (error: Error, sites: NodeJS.CallSite[]): unknown =>
    nodeFormatter ? nodeFormatter(error, sites) : [header(error), ...sites.map((s) => `    at ${s}`)].join("\n");

  Error.prepareStackTrace = function prepareCellStackTrace(error: Error, sites: NodeJS.CallSite[]): unknown {
    try {
      const frames = mapper.userFrames(error, sites.map((s) => `    at ${s}`));
      if (frames) return [header(error), ...frames].join("\n");
    } catch {
      // a call site or an error that cannot be formatted: as Node would
    }
    return asNodeWould(error, sites);
  };
}
