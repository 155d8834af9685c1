/**
 * A minimal Jupyter client over zeromq for `tspool run`: shell and control requests with their
 * replies, and the iopub broadcast. Messages are signed and checked with the kernel's own wire
 * modules.
 */
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "../kernel/wire/connection.js";
import { decodeMessage, encodeMessage, makeMessage, type JupyterMessage } from "../kernel/wire/message.js";
import { createSigner, type Signer } from "../kernel/wire/signing.js";

type Waiter = { resolve: (m: JupyterMessage) => void; reject: (e: Error) => void };

export class KernelClient {
  readonly session = randomUUID();
  private readonly signer: Signer;
  private readonly shell: zmq.Dealer;
  private readonly control: zmq.Dealer;
  private readonly iopub: zmq.Subscriber;
  /** Same routing id as shell: the kernel sends a cell's input_request to the identity that sent the cell. */
  private readonly stdin: zmq.Dealer;
  private readonly inputHandlers = new Set<(m: JupyterMessage) => void>();
  private readonly waiting = new Map<string, Waiter>();
  private readonly iopubHandlers = new Set<(m: JupyterMessage) => void>();
  private closed = false;

  constructor(private readonly info: ConnectionInfo) {
    this.signer = createSigner(info.key, info.signature_scheme);
    this.shell = new zmq.Dealer({ routingId: `tspool-run-${this.session}`, linger: 0 });
    this.stdin = new zmq.Dealer({ routingId: `tspool-run-${this.session}`, linger: 0 });
    this.control = new zmq.Dealer({ routingId: `control-${this.session}`, linger: 0 });
    this.iopub = new zmq.Subscriber({ linger: 0 });
  }

  connect(): void {
    this.shell.connect(endpoint(this.info, "shell"));
    this.control.connect(endpoint(this.info, "control"));
    this.iopub.connect(endpoint(this.info, "iopub"));
    this.iopub.subscribe();
    this.stdin.connect(endpoint(this.info, "stdin"));
    void this.readReplies(this.shell);
    void this.readStdin();
    void this.readReplies(this.control);
    void this.readIopub();
  }

  /** Registers a handler for every iopub message; returns a function that removes it. */
  onIopub(handler: (m: JupyterMessage) => void): () => void {
    this.iopubHandlers.add(handler);
    return () => this.iopubHandlers.delete(handler);
  }

  /** Registers a handler for input_request messages (on stdin); returns a function that removes it. */
  onInputRequest(handler: (m: JupyterMessage) => void): () => void {
    this.inputHandlers.add(handler);
    return () => this.inputHandlers.delete(handler);
  }

  /** Answers an input_request. */
  replyInput(request: JupyterMessage, value: string): void {
    const msg = makeMessage({ msgType: "input_reply", content: { value }, session: this.session, parent: request.header, username: "tspool-run" });
    this.stdin.send(encodeMessage(msg, this.signer)).catch((e: Error) => {
      if (!this.closed) process.stderr.write(`tspool run: could not answer the kernel's input request: ${e.message}\n`);
    });
  }

  /** Sends a request and returns its msg_id and a promise of the reply. */
  send(channel: "shell" | "control", msgType: string, content: Record<string, unknown>): { id: string; reply: Promise<JupyterMessage> } {
    const msg = makeMessage({ msgType, content, session: this.session, username: "tspool-run" });
    const id = msg.header.msg_id;
    const reply = new Promise<JupyterMessage>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    reply.catch(() => {}); // a caller that gives up on a reply must not cause an unhandled rejection
    const socket = channel === "shell" ? this.shell : this.control;
    socket.send(encodeMessage(msg, this.signer)).catch((e: Error) => this.fail(id, e));
    return { id, reply };
  }

  /** Forgets a pending request (its reply, if it ever comes, is ignored). */
  forget(id: string): void {
    this.waiting.delete(id);
  }

  /**
   * Waits until the kernel answers kernel_info on shell and its iopub messages reach us (a
   * subscriber misses what is published before its subscription lands, so we repeat kernel_info
   * until its busy/idle status shows up on iopub). Returns the kernel_info_reply content.
   */
  async waitForReady(timeoutMs: number, aborted: () => string | null): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    const seenOnIopub = new Set<string>();
    const off = this.onIopub((m) => {
      if (typeof m.parent_header.msg_id === "string") seenOnIopub.add(m.parent_header.msg_id);
    });
    try {
      let info: Record<string, any> | null = null;
      const sent: string[] = [];
      while (Date.now() < deadline) {
        const why = aborted();
        if (why) throw new Error(why);
        const { id, reply } = this.send("shell", "kernel_info_request", {});
        sent.push(id);
        const got: JupyterMessage | null = await Promise.race([reply, delay(info ? 250 : 500).then(() => null)]);
        if (got) info = got.content;
        if (info && sent.some((s) => seenOnIopub.has(s))) return info;
        if (info) await delay(50);
      }
      throw new Error(info
        ? `the kernel answered on shell but none of its iopub messages arrived within ${timeoutMs / 1000} s`
        : `the kernel did not answer kernel_info within ${timeoutMs / 1000} s`);
    } finally {
      off();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, w] of this.waiting) w.reject(new Error(`client closed before the reply to ${id}`));
    this.waiting.clear();
    this.shell.close();
    this.control.close();
    this.iopub.close();
    this.stdin.close();
  }

  private fail(id: string, e: Error): void {
    const w = this.waiting.get(id);
    if (w) {
      this.waiting.delete(id);
      w.reject(e);
    }
  }

  private readReplies(socket: zmq.Dealer): Promise<void> {
    return this.read(socket, "a reply", "socket", (m) => {
      const parent = m.parent_header.msg_id;
      const w = typeof parent === "string" ? this.waiting.get(parent) : undefined;
      if (w) {
        this.waiting.delete(parent as string);
        w.resolve(m);
      }
    });
  }

  private readStdin(): Promise<void> {
    return this.read(this.stdin, "a stdin message", "stdin socket", (m) => {
      if (m.header.msg_type === "input_request") for (const h of this.inputHandlers) h(m);
    });
  }

  private readIopub(): Promise<void> {
    return this.read(this.iopub, "an iopub message", "iopub socket", (m) => {
      for (const h of this.iopubHandlers) h(m);
    });
  }

  /** Decodes every message `socket` receives and hands it on; a badly signed one is dropped and said. */
  private async read(socket: zmq.Dealer | zmq.Subscriber, what: string, name: string, handle: (m: JupyterMessage) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        const decoded = decodeMessage(frames as Buffer[], this.signer);
        if (!decoded.ok) {
          process.stderr.write(`tspool run: dropped ${what} from the kernel (${decoded.reason})\n`);
          continue;
        }
        handle(decoded.message);
      }
    } catch (e) {
      if (!this.closed) process.stderr.write(`tspool run: ${name} error: ${(e as Error).message}\n`);
    }
  }
}

/** Resolves after `ms`; the timer does not keep the process alive (these are only used in races and polls). */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
