/**
 * Tells whether code running for a request wrote to stdout/stderr while a magic was watching it:
 * the executor sends such writes straight to the frontend as `stream` output of the request, so a
 * magic cannot see them otherwise. `%%pool map` asks this before it clears the cell's output to
 * re-show its final display (see live-display.ts): it must not clear away lines the cell printed.
 *
 * The wrapper goes around the executor's own capture of process.stdout/stderr once, the first time
 * a magic watches, and stays (a watch only adds and removes an entry in a map, so an interrupted
 * cell can leave nothing half-undone behind).
 */
import { outputContext } from "../kernel/executor/session.js";

const watched = new Map<string, { wrote: boolean }>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const inner = stream.write;
    stream.write = function (this: unknown, ...args: unknown[]): boolean {
      if (watched.size > 0) {
        const parent = outputContext.getStore()?.parent;
        const w = parent === undefined ? undefined : watched.get(parent);
        if (w) w.wrote = true;
      }
      return (inner as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof stream.write;
  }
}

export interface CellOutputWatch {
  /** Whether the request's code wrote anything since the watch began. */
  readonly wrote: boolean;
  stop(): void;
}

/** Starts noting writes made under request `parent` (its msg_id). */
export function watchCellOutput(parent: string): CellOutputWatch {
  install();
  const entry = { wrote: false };
  watched.set(parent, entry);
  return {
    get wrote() {
      return entry.wrote;
    },
    stop() {
      if (watched.get(parent) === entry) watched.delete(parent);
    },
  };
}
