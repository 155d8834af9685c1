/**
 * Output of a task that bypasses process.stdout/stderr:
 * - Its writes to fd 1 and fd 2 through node:fs (fs.writeSync(1, ...), fs.write(2, ...), and
 *   what is built on them, like fs.createWriteStream with fd 1) are caught and handed to the
 *   output capture as raw output, so they keep their place among the console lines and carry the
 *   job and item that wrote them. In a thread worker fd 1 and 2 are the parent's own, so without
 *   this they would not be captured at all.
 * - Writes that do not go through node:fs (a child process sharing fd 1 and 2, native code)
 *   reach the fds themselves. Starting a child process is announced, so that a process worker
 *   can mark its fds with the running job first (see output-sinks.ts).
 */
import { createRequire, syncBuiltinESMExports } from "node:module";
import type { StreamName } from "../output-lines.js";

type WriteSync = (fd: number, data: unknown, ...rest: unknown[]) => number;
type Write = (fd: number, data: unknown, ...rest: unknown[]) => void;

const STREAM: Record<number, StreamName> = { 1: "stdout", 2: "stderr" };

/** The bytes a write call's arguments describe (see fs.writeSync's two forms), or null to leave the call to node:fs (which explains bad arguments). */
function bytesOf(data: unknown, args: unknown[]): Uint8Array | null {
  if (ArrayBuffer.isView(data)) {
    let [offset, length] = args;
    if (typeof offset === "object" && offset !== null) ({ offset, length } = offset as { offset?: unknown; length?: unknown });
    const from = offset === undefined || offset === null ? 0 : offset;
    if (typeof from !== "number" || !Number.isInteger(from) || from < 0 || from > data.byteLength) return null;
    const size = length === undefined || length === null ? data.byteLength - from : length;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0 || from + size > data.byteLength) return null;
    return new Uint8Array(data.buffer, data.byteOffset + from, size);
  }
  if (typeof data === "string") {
    const encoding = args[1] ?? "utf8";
    if (typeof encoding !== "string" || !Buffer.isEncoding(encoding)) return null;
    return Buffer.from(data, encoding);
  }
  return null;
}

const require = createRequire(import.meta.url);

/** Gives a function's wrapper the original's own properties (e.g. its util.promisify form), but not its length, name or prototype. */
export function keepOwnProperties(original: object, replacement: object): void {
  for (const key of Reflect.ownKeys(original)) {
    if (key === "length" || key === "name" || key === "prototype") continue;
    Object.defineProperty(replacement, key, Object.getOwnPropertyDescriptor(original, key)!);
  }
}

/** Puts `replacement` in place of a module's function, keeping the original's own properties. */
function replace<F extends (...args: never[]) => unknown>(module: Record<string, unknown>, name: string, make: (original: F) => F): void {
  const original = module[name] as F;
  const replacement = make(original);
  keepOwnProperties(original, replacement);
  module[name] = replacement;
}

export function captureRawWrites(onWrite: (stream: StreamName, bytes: Uint8Array) => void): void {
  const fs = require("node:fs") as Record<string, unknown>;
  replace<WriteSync>(fs, "writeSync", (writeSync) => function (this: unknown, fd, data, ...rest) {
    const bytes = STREAM[fd] ? bytesOf(data, rest) : null;
    if (!bytes) return writeSync.call(this, fd, data, ...rest);
    onWrite(STREAM[fd], bytes);
    return bytes.length;
  });
  replace<Write>(fs, "write", (write) => function (this: unknown, fd, data, ...rest) {
    const cb = rest.at(-1);
    const bytes = STREAM[fd] && typeof cb === "function" ? bytesOf(data, rest.slice(0, -1)) : null;
    if (!bytes) { write.call(this, fd, data, ...rest); return; }
    onWrite(STREAM[fd], bytes);
    process.nextTick(cb as (...a: unknown[]) => void, null, bytes.length, data);
  });
  // `import { writeSync } from "node:fs"` sees the new functions too
  syncBuiltinESMExports();
}

/** Calls `starting` before every way node:child_process starts a process. */
export function announceChildProcesses(starting: () => void): void {
  const cp = require("node:child_process") as Record<string, unknown>;
  for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
    replace<(...args: unknown[]) => unknown>(cp, name, (original) => function (this: unknown, ...args) {
      starting();
      return original.apply(this, args);
    });
  }
  syncBuiltinESMExports();
}
