/**
 * tspool as a library: a persistent farm of worker processes (or threads) with Python
 * multiprocessing's API shaped for TypeScript, plus synchronisation primitives that work
 * between the parent and its workers.
 */
export { Pool } from "./pool.js";
export type { PoolOptions, PoolOutput, MapOptions, ApplyOptions, RunOptions } from "./pool.js";
export { AsyncResult } from "./async-result.js";
export {
  RemoteError, WorkerCrashedError, InterruptedError, TaskTimeoutError, CancelledError, PoolClosedError, PoolBrokenError,
} from "./errors.js";
export type { SerializedError } from "./errors.js";
export type { TaskCode, Dep, ModuleFn, TaskFn } from "./task-code.js";
export type {
  OutputEvent, TaskEvent, WorkerEvent, PoolEvents, PoolStatus, WorkerStatus, WorkerState, JobKind,
} from "./events.js";
export type { WorkerTransport, TransportFactory, SpawnOptions, WorkerExit } from "./transport.js";
export { initialChunksize } from "./chunking.js";
export { HANDLE, registerHandleKind, encodeHandles, decodeHandles, serveHandleCall } from "./handles.js";
export type { HandleDescriptor, WorkerEnv } from "./handles.js";
export * from "./sync/index.js";
export * from "./process.js";
