/**
 * Handle kinds (locks, queues, ...) are registered by importing the synchronisation module.
 * Workers import it only when a value actually carries a handle: it costs ~8 MB of memory and
 * start-up time that plain tasks should not pay.
 */
import { decodeHandles, type WorkerEnv } from "../handles.js";

let loading: Promise<void> | null = null;

export function loadHandleKinds(): Promise<void> {
  loading ??= import("../sync/index.js" as string).then(() => {}, () => {});
  return loading;
}

/** decodeHandles, loading the handle kinds first if the value needs them. */
export async function decodeInWorker(value: unknown, env: WorkerEnv): Promise<unknown> {
  if (typeof value !== "object" || value === null) return value;
  try {
    return decodeHandles(value, env);
  } catch (e) {
    if (!(e instanceof Error) || !/unknown kind/.test(e.message) || loading) throw e;
    await loadHandleKinds();
    return decodeHandles(value, env);
  }
}
