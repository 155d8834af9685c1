/**
 * Starts the kernel process for a connection file (what `tspool kernel -f FILE` runs) and wires
 * process signals: SIGINT interrupts the running cell, SIGTERM/SIGHUP shut the kernel down.
 */
import { Kernel } from "./kernel.js";
import type { ExecutorHost } from "./executor/host.js";
import { readConnectionFile } from "./wire/connection.js";

/** `host`: an executor already starting (its default options), else the kernel starts one. */
export async function startKernelProcess(connectionFile: string, host?: ExecutorHost): Promise<Kernel> {
  if (host) process.on("exit", () => host.killNow());
  const kernel = new Kernel({ connection: readConnectionFile(connectionFile), host });
  process.on("SIGINT", () => kernel.interrupt());
  const stop = () => {
    kernel.stop().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  process.on("exit", () => kernel.host.killNow());
  await kernel.start();
  return kernel;
}
