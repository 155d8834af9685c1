/**
 * What a request handler can use: the request, a way to reply and to publish on iopub, the
 * executor, the history and the execution counter. Built by kernel/kernel.ts.
 */
import type { ExecutorHost } from "../executor/host.js";
import type { History } from "../history.js";
import type { JupyterMessage } from "../wire/message.js";
import type { MessageChannel } from "../wire/sockets.js";

export interface KernelState {
  /** Count of the last cell run with store_history (0 before the first). */
  executionCount: number;
}

export interface HandlerContext {
  readonly channel: MessageChannel;
  readonly request: JupyterMessage;
  readonly host: ExecutorHost;
  readonly history: History;
  readonly state: KernelState;
  /** Sends `<type>` to the requester on the request's channel, with the request as parent. */
  reply(msgType: string, content: object, metadata?: Record<string, unknown>): Promise<void>;
  /** Publishes on iopub with `parent` (default: the request) as parent header. */
  publish(msgType: string, content: object, parent?: JupyterMessage["header"]): Promise<void>;
  /** Registers the parent of executor events for request `id` (see kernel/kernel.ts). */
  trackExecution(id: string, info: { silent: boolean; allowStdin: boolean }): void;
  /** Ends the kernel process once this request's status idle has been published. */
  shutdown(restart: boolean): Promise<void>;
  /**
   * Marks the execute requests queued at this moment to be answered `aborted` (stop_on_error).
   * Called before the error reply goes out: a request the client sends once it has the reply
   * was not queued at the time of the error and must run.
   */
  abortQueuedExecutes(): void;
}

/** Handles one request type. Resolves when the reply has been sent. */
export type Handler = (ctx: HandlerContext) => Promise<void>;
