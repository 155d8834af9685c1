/** Synchronisation and communication between the main program and farm workers. */
export { Lock, RLock, Acquirable } from "./lock.js";
export { Semaphore, BoundedSemaphore } from "./semaphore.js";
export { Event } from "./event.js";
export { Condition } from "./condition.js";
export { Barrier, type BarrierOptions } from "./barrier.js";
export { Queue, JoinableQueue, type QueueOptions } from "./queue.js";
export { Pipe, Connection } from "./pipe.js";
export { Value } from "./value.js";
export { SharedArray } from "./shared-array.js";
export { ELEMENT_TYPES, type ElementArray, type ElementType, type ElementValue } from "./elements.js";
export type { WaitOptions } from "./wait.js";
export { setAbortSource } from "./shared.js";
export {
  SyncUsageError,
  SyncTimeoutError,
  QueueEmptyError,
  QueueFullError,
  BrokenBarrierError,
  ConnectionClosedError,
  TaskLostError,
} from "./errors.js";
