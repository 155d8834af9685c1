/**
 * The kernel process: binds the sockets of a connection file, runs shell requests one at a time
 * (control requests right away), wraps every request in a status busy/idle pair on iopub carrying
 * its header as parent, turns executor events into iopub/stdin messages, and after a failed
 * execute with stop_on_error aborts only the execute requests queued at that moment.
 */
import { randomUUID } from "node:crypto";
import { ExecutorHost, describeExit, type ExecutorEvent, type ExecutorExit, type RunningRequest } from "./executor/host.js";
import type { HandlerContext, KernelState } from "./handlers/context.js";
import { errorContent, replyTypeOf } from "./handlers/bad-request.js";
import { controlHandlers, shellHandlers } from "./handlers/index.js";
import { History } from "./history.js";
import type { ConnectionInfo } from "./wire/connection.js";
import { makeMessage, type JupyterMessage, type MessageHeader } from "./wire/message.js";
import { createSigner } from "./wire/signing.js";
import { KernelSockets, type MessageChannel } from "./wire/sockets.js";

export interface KernelOptions {
  connection: ConnectionInfo;
  history?: History;
  /** Executor entry (default: the compiled kernel/executor/main.js). */
  executorPath?: string;
  /** The notebook's directory (default: the current directory). */
  cwd?: string;
  /** An executor host already started (then executorPath and cwd are its business). */
  host?: ExecutorHost;
}

interface Execution {
  header: MessageHeader;
  identities: Buffer[];
  silent: boolean;
  allowStdin: boolean;
}

const MAX_TRACKED = 256;

export class Kernel {
  readonly session = randomUUID();
  readonly state: KernelState = { executionCount: 0 };
  readonly host: ExecutorHost;
  readonly history: History;
  private readonly sockets: KernelSockets;
  private readonly queue: JupyterMessage[] = [];
  private readonly aborted = new Set<string>();
  private draining = false;
  private readonly executions = new Map<string, Execution>();
  private current: Execution | null = null;
  private last: Execution | null = null;
  /** input_request msg_id -> the executor's input id and the execute request that asked */
  private readonly pendingInputs = new Map<string, { inputId: string; requestId: string }>();
  private stopping = false;
  /** Set by a shutdown request: the process ends once that request's status idle is out. */
  private exitAfterIdle = false;

  constructor(private readonly options: KernelOptions) {
    this.sockets = new KernelSockets(options.connection, createSigner(options.connection.key, options.connection.signature_scheme));
    this.history = options.history ?? History.open();
    this.host = options.host ?? new ExecutorHost({ executorPath: options.executorPath, cwd: options.cwd });
    this.host.on("event", (ev: ExecutorEvent) => this.onExecutorEvent(ev));
    this.host.on("output", (name: "stdout" | "stderr", text: string) => this.onRawOutput(name, text));
    this.host.on("exit", (exit: ExecutorExit, running: RunningRequest[]) => this.onExecutorExit(exit, running));
  }

  async start(): Promise<void> {
    await this.sockets.bind();
    this.sockets.listen((channel, msg) => this.onMessage(channel, msg));
    await this.publish("status", { execution_state: "starting" }, {});
    // The executor starts in the background: kernel_info and the heartbeat answer meanwhile.
    this.host.ready().catch((e: Error) => process.stderr.write(`[tspool] ${e.message}\n`));
  }

  /** Same as an interrupt_request: used for SIGINT. */
  interrupt(): void {
    this.host.interrupt();
  }

  private stopped: Promise<void> | null = null;

  /** Stops the executor and closes the sockets (once; every caller waits for the same stop). */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopping = true;
      this.stopped = (async () => {
        await this.host.stop();
        // Give zeromq a moment to flush the last replies before the sockets close.
        await new Promise((r) => setTimeout(r, 50));
        this.sockets.close();
      })();
    }
    return this.stopped;
  }

  private onMessage(channel: MessageChannel, msg: JupyterMessage): void {
    if (this.stopping || this.exitAfterIdle) return;
    if (channel === "stdin") return this.onStdin(msg);
    if (channel === "control") {
      void this.handle("control", msg);
      return;
    }
    this.queue.push(msg);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length && !this.stopping) {
        const msg = this.queue.shift()!;
        if (this.aborted.delete(msg.header.msg_id)) await this.abort(msg);
        else await this.handle("shell", msg);
      }
    } finally {
      this.draining = false;
    }
  }

  private async abort(msg: JupyterMessage): Promise<void> {
    await this.publish("status", { execution_state: "busy" }, msg.header);
    await this.send("shell", msg, "execute_reply", { status: "aborted", execution_count: this.state.executionCount }, { status: "aborted" });
    await this.publish("status", { execution_state: "idle" }, msg.header);
  }

  private async handle(channel: MessageChannel, msg: JupyterMessage): Promise<void> {
    const type = msg.header.msg_type;
    const handler = (channel === "control" ? controlHandlers : shellHandlers)[type];
    await this.publish("status", { execution_state: "busy" }, msg.header);
    try {
      if (!handler) {
        const replyType = replyTypeOf(type);
        process.stderr.write(`[tspool] no handler for ${type} on ${channel}${replyType ? "; answered with an error" : "; ignored"}\n`);
        if (replyType) {
          await this.send(channel, msg, replyType, errorContent("UnknownMessageType", `tspool does not handle ${type} on the ${channel} channel`));
        }
      } else {
        await handler(this.context(channel, msg));
      }
    } catch (e) {
      process.stderr.write(`[tspool] ${type} failed: ${(e as Error).stack}\n`);
      const replyType = replyTypeOf(type);
      if (replyType) await this.send(channel, msg, replyType, errorContent("InternalError", `tspool failed to handle ${type}: ${(e as Error).message}`));
    } finally {
      if (this.current?.header.msg_id === msg.header.msg_id) this.current = null;
      for (const [key, p] of this.pendingInputs) if (p.requestId === msg.header.msg_id) this.pendingInputs.delete(key);
      await this.publish("status", { execution_state: "idle" }, msg.header);
    }
    if (this.exitAfterIdle) {
      await this.stop();
      process.exit(0);
    }
  }

  private context(channel: MessageChannel, request: JupyterMessage): HandlerContext {
    return {
      channel,
      request,
      host: this.host,
      history: this.history,
      state: this.state,
      reply: (msgType, content, metadata) => this.send(channel, request, msgType, content, metadata),
      publish: (msgType, content, parent) => this.publish(msgType, content, parent ?? request.header),
      trackExecution: (id, info) => {
        const ex: Execution = { header: request.header, identities: request.identities, ...info };
        this.executions.set(id, ex);
        if (this.executions.size > MAX_TRACKED) this.executions.delete(this.executions.keys().next().value!);
        this.current = ex;
        this.last = ex;
      },
      shutdown: async () => {
        this.exitAfterIdle = true;
        this.queue.length = 0;
      },
      abortQueuedExecutes: () => {
        for (const queued of this.queue) if (queued.header.msg_type === "execute_request") this.aborted.add(queued.header.msg_id);
      },
    };
  }

  private send(channel: MessageChannel, request: JupyterMessage, msgType: string, content: object, metadata?: Record<string, unknown>): Promise<void> {
    return this.sockets.send(
      channel,
      makeMessage({ msgType, content, session: this.session, parent: request.header, identities: request.identities, metadata }),
    );
  }

  /**
   * Stream text is coalesced: consecutive writes to the same stream of the same cell that arrive
   * together go out as one `stream` message (flushed on the next turn, or before anything else).
   */
  private pendingStream: { parent: MessageHeader; name: "stdout" | "stderr"; text: string } | null = null;

  private publishStream(name: "stdout" | "stderr", text: string, parent: MessageHeader): void {
    const p = this.pendingStream;
    if (p && p.parent === parent && p.name === name && p.text.length < 65536) {
      p.text += text;
      return;
    }
    this.flushStream();
    this.pendingStream = { parent, name, text };
    setImmediate(() => this.flushStream());
  }

  private flushStream(): void {
    const p = this.pendingStream;
    if (!p) return;
    this.pendingStream = null;
    void this.sendIopub("stream", { name: p.name, text: p.text }, p.parent);
  }

  private publish(msgType: string, content: object, parent: Partial<MessageHeader>): Promise<void> {
    this.flushStream();
    return this.sendIopub(msgType, content, parent);
  }

  private sendIopub(msgType: string, content: object, parent: Partial<MessageHeader>): Promise<void> {
    const topic = Buffer.from(`kernel.${this.session}.${msgType}`);
    return this.sockets.send("iopub", makeMessage({ msgType, content, session: this.session, parent, identities: [topic] }));
  }

  private onExecutorEvent(ev: ExecutorEvent): void {
    const ex = this.executions.get(ev.parent) ?? this.last;
    if (ev.type === "input_request") return this.onInputRequest(ev, ex);
    if (!ex || ex.silent) return;
    switch (ev.type) {
      case "stream":
        this.publishStream(ev.name, ev.text, ex.header);
        break;
      case "display":
        void this.publish(ev.update ? "update_display_data" : "display_data", { data: ev.data, metadata: ev.metadata ?? {}, transient: ev.transient ?? {} }, ex.header);
        break;
      case "clear_output":
        void this.publish("clear_output", { wait: ev.wait }, ex.header);
        break;
    }
  }

  private onInputRequest(ev: Extract<ExecutorEvent, { type: "input_request" }>, ex: Execution | null): void {
    if (!ex || !ex.allowStdin) {
      process.stderr.write("[tspool] the cell asked for input but its request does not allow stdin; answering with an empty string\n");
      this.host.post({ type: "input_reply", id: ev.id, value: "" });
      return;
    }
    const msg = makeMessage({
      msgType: "input_request",
      content: { prompt: ev.prompt, password: ev.password },
      session: this.session,
      parent: ex.header,
      identities: ex.identities,
    });
    this.pendingInputs.set(msg.header.msg_id, { inputId: ev.id, requestId: ex.header.msg_id });
    void this.sockets.send("stdin", msg);
  }

  private onStdin(msg: JupyterMessage): void {
    if (msg.header.msg_type !== "input_reply") {
      process.stderr.write(`[tspool] unexpected ${msg.header.msg_type} on stdin; ignored\n`);
      return;
    }
    let inputId = msg.parent_header.msg_id ? this.pendingInputs.get(msg.parent_header.msg_id)?.inputId : undefined;
    if (inputId !== undefined) this.pendingInputs.delete(msg.parent_header.msg_id!);
    else if (this.pendingInputs.size === 1) {
      // Some clients do not set the parent header of input_reply: there is only one question open.
      const [[key, p]] = this.pendingInputs;
      this.pendingInputs.delete(key);
      inputId = p.inputId;
    }
    if (inputId === undefined) {
      process.stderr.write("[tspool] input_reply does not answer any pending input_request; ignored\n");
      return;
    }
    const value = typeof msg.content.value === "string" ? msg.content.value : "";
    this.host.post({ type: "input_reply", id: inputId, value });
  }

  private onRawOutput(name: "stdout" | "stderr", text: string): void {
    const ex = this.current ?? this.last;
    if (!ex || ex.silent) {
      process.stderr.write(text);
      return;
    }
    this.publishStream(name, text, ex.header);
  }

  private onExecutorExit(exit: ExecutorExit, running: RunningRequest[]): void {
    this.pendingInputs.clear();
    const how = describeExit(exit);
    process.stderr.write(`[tspool] the executor process died (${how}); starting a new one\n`);
    if (running.some((r) => r.kind === "execute")) return; // the running cell's error says it
    // Otherwise it died between cells, or while answering a completion or inspection (whose empty
    // reply says nothing): a timer or callback that called process.exit() is told to the cell that
    // set it up, any other death to the last cell.
    const caller = exit.exitCalled?.parent ? this.executions.get(exit.exitCalled.parent) : undefined;
    const cell = caller ?? this.last;
    if (!cell || cell.silent) return;
    const when = running.length ? `while it answered a ${running[0]!.kind} request` : "between cells";
    const text = caller
      ? `[tspool] code of this cell (a timer or callback) called process.exit(${exit.exitCalled!.code}) after the cell had finished, which ended the executor process ${when}; a new one was started and the session's state is gone.\n`
      : `[tspool] the executor process died (${how}) ${when}; a new one was started and the session's state is gone.\n`;
    void this.publish("stream", { name: "stderr", text }, cell.header);
  }
}
