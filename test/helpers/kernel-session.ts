/**
 * One real kernel for a test file: started before the file's tests and stopped after them, with
 * `ok` and `fails` to run cells that must succeed or fail. Worker pids added to `workerPids` are
 * killed when the file ends, so a worker that a failed test left spinning does not outlive it.
 *
 *   const s = useKernel({}, async ({ ok }) => { await ok("%pool start 2"); });
 *   it("...", async () => { expect((await s.ok("1 + 1")).result!.data["text/plain"]).toBe("2"); });
 */
import { afterAll, beforeAll, expect } from "vitest";
import type { ExecuteResult } from "./kernel-client.js";
import { startKernel, type RunningKernel, type StartKernelOptions } from "./start-kernel.js";

export interface KernelSession {
  /** The running kernel (from the file's beforeAll on). */
  readonly kernel: RunningKernel;
  /** Runs a cell that must succeed; throws with the cell and its error otherwise. */
  ok(code: string): Promise<ExecuteResult>;
  /** Runs a cell that must fail; returns its error content (ename, evalue, traceback). */
  fails(code: string): Promise<Record<string, any>>;
  /** Worker pids to kill at the end of the file. */
  readonly workerPids: Set<number>;
}

export function useKernel(
  options: StartKernelOptions | (() => StartKernelOptions) = {},
  setup?: (session: KernelSession) => Promise<void>,
): KernelSession {
  let kernel: RunningKernel | undefined;
  const session: KernelSession = {
    get kernel(): RunningKernel {
      if (!kernel) throw new Error("the kernel is not started yet (use it inside tests or hooks)");
      return kernel;
    },
    async ok(code) {
      const r = await session.kernel.client.execute(code);
      if (r.reply.content.status !== "ok") throw new Error(`cell failed: ${code}\n${JSON.stringify(r.error ?? r.reply.content)}`);
      return r;
    },
    async fails(code) {
      const r = await session.kernel.client.execute(code);
      expect(r.reply.content.status, `cell should have failed: ${code}`).toBe("error");
      return r.error!;
    },
    workerPids: new Set<number>(),
  };
  beforeAll(async () => {
    kernel = await startKernel(typeof options === "function" ? options() : options);
    await setup?.(session);
  }, 60_000);
  afterAll(async () => {
    await kernel?.stop();
    for (const pid of session.workerPids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone, as it should be
      }
    }
  });
  return session;
}
