/**
 * Sends what cell code writes to process.stdout/stderr (console.* included) to the frontend as
 * `stream` events of the request it belongs to. Writes outside any request (the executor's own
 * diagnostics) still go to the real streams, which the kernel process logs.
 */
import type { ExecutorToHost } from "./protocol.js";
import { outputContext } from "./session.js";

type Write = typeof process.stdout.write;

export function captureOutput(send: (e: ExecutorToHost) => void): void {
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream) as Write;
    const write = function (this: unknown, chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean {
      const ctx = outputContext.getStore();
      if (!ctx) return (original as (...a: unknown[]) => boolean)(chunk, encodingOrCb, cb);
      const callback = typeof encodingOrCb === "function" ? encodingOrCb : typeof cb === "function" ? cb : undefined;
      if (!ctx.silent) {
        const text =
          typeof chunk === "string"
            ? chunk
            : Buffer.from(chunk as Uint8Array).toString(typeof encodingOrCb === "string" ? (encodingOrCb as BufferEncoding) : "utf8");
        if (text) send({ type: "stream", parent: ctx.parent, name, text });
      }
      if (callback) queueMicrotask(() => (callback as () => void)());
      return true;
    };
    stream.write = write as Write;
  }
}
