/**
 * Turns off V8's concurrent on-stack replacement in this process, unless its command line asked
 * for it (`--concurrent-osr`).
 *
 * Why: with concurrent OSR (V8's default since Node 20), a hot loop's optimised code is compiled on
 * a background thread while the loop goes on in unoptimised code. When other processes keep every
 * core busy — which is exactly what a pool of CPU-bound workers does — that compilation sometimes
 * never takes effect, and the process runs the loop in baseline code for the rest of its life:
 * measured on Node 20.20 with two workers mapping a 6-million-iteration integer loop, one worker or
 * both took 29.5 ms per item instead of 6.6 ms in more than half of the pools started, from the
 * first item to the last (the same happens to two plain `node` scripts started side by side, about
 * one run in ten). With synchronous OSR the main thread compiles the loop itself (about a
 * millisecond, once) and enters the optimised code at once: no stuck process in any run.
 *
 * Set at run time rather than on the command line: a flag a later V8 no longer knows is then a
 * warning, not a process that refuses to start. (The kernel's executor has it on its command line
 * instead, see kernel/executor/host.ts.)
 */
import { setFlagsFromString } from "node:v8";

export function preferSynchronousOsr(): void {
  if (process.execArgv.some((a) => /^--(no-)?concurrent[-_]osr$/.test(a))) return;
  setFlagsFromString("--no-concurrent-osr");
}
