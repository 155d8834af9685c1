/**
 * A Jupyter client over real zeromq sockets, for tests: requests on shell/control, iopub
 * collection per request, stdin answers, heartbeat pings and raw frames (e.g. bad signatures).
 *
 *   const k = await startKernel();             // see start-kernel.ts
 *   const r = await k.client.execute("1 + 1"); // r.reply, r.iopub, r.result, r.stdout, r.error
 */
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "../../kernel/wire/connection.js";
import { decodeMessage, encodeMessage, makeMessage, type JupyterMessage } from "../../kernel/wire/message.js";
import { createSigner, type Signer } from "../../kernel/wire/signing.js";

export type RequestChannel = "shell" | "control" | "stdin";

export interface ExecuteOptions {
  silent?: boolean;
  store_history?: boolean;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
  user_expressions?: Record<string, string>;
  /** Answers input_request messages of this cell (default: none, i.e. the cell waits). */
  onInput?: (prompt: string, password: boolean) => string | Promise<string>;
  timeoutMs?: number;
}

export interface ExecuteResult {
  msgId: string;
  reply: JupyterMessage;
  /** iopub messages with this request as parent, busy first, idle last. */
  iopub: JupyterMessage[];
  stdout: string;
  stderr: string;
  /** content of execute_result, if any */
  result?: Record<string, any>;
  /** content of the error message, if any */
  error?: Record<string, any>;
  displays: JupyterMessage[];
  inputRequests: JupyterMessage[];
}

/** The text/plain of a cell's execute_result (undefined when it has none). */
export const plain = (r: { result?: Record<string, any> }) => r.result?.data["text/plain"] as string;

interface Waiter {
  match(m: JupyterMessage): boolean;
  resolve(m: JupyterMessage): void;
}

export class KernelClient {
  readonly session = randomUUID();
  readonly signer: Signer;
  private readonly shell = new zmq.Dealer();
  private readonly control = new zmq.Dealer();
  private readonly stdin = new zmq.Dealer();
  private readonly iopub = new zmq.Subscriber();
  private hb = new zmq.Request();
  private readonly replyWaiters: Waiter[] = [];
  /** Every shell/control reply received, in order. */
  readonly replyLog: JupyterMessage[] = [];
  private readonly iopubWaiters: Waiter[] = [];
  /** Every iopub message received, in order. */
  readonly iopubLog: JupyterMessage[] = [];
  private readonly stdinHandlers = new Map<string, (m: JupyterMessage) => void>();
  /** Every message received on stdin. */
  readonly stdinLog: JupyterMessage[] = [];
  private closed = false;
  private sendTails = new Map<zmq.Socket, Promise<unknown>>();

  constructor(readonly info: ConnectionInfo) {
    this.signer = createSigner(info.key, info.signature_scheme);
    // Like jupyter_client: shell and stdin share the session as routing id, so input_request finds us.
    this.shell.routingId = this.session;
    this.stdin.routingId = this.session;
    for (const s of [this.shell, this.control, this.stdin, this.iopub, this.hb]) s.linger = 0;
  }

  connect(): void {
    this.shell.connect(endpoint(this.info, "shell"));
    this.control.connect(endpoint(this.info, "control"));
    this.stdin.connect(endpoint(this.info, "stdin"));
    this.iopub.connect(endpoint(this.info, "iopub"));
    this.iopub.subscribe();
    this.hb.connect(endpoint(this.info, "hb"));
    const onReply = (m: JupyterMessage) => {
      this.replyLog.push(m);
      this.dispatch(this.replyWaiters, m);
    };
    void this.loop(this.shell, onReply);
    void this.loop(this.control, onReply);
    void this.loop(this.iopub, (m) => {
      this.iopubLog.push(m);
      this.dispatch(this.iopubWaiters, m);
    });
    void this.loop(this.stdin, (m) => {
      this.stdinLog.push(m);
      const h = this.stdinHandlers.get(String(m.parent_header.msg_id));
      if (h) h(m);
    });
  }

  private async loop(sock: zmq.Dealer | zmq.Subscriber, onMessage: (m: JupyterMessage) => void): Promise<void> {
    try {
      for await (const frames of sock) {
        const r = decodeMessage(frames, this.signer);
        if (r.ok) onMessage(r.message);
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  private dispatch(waiters: Waiter[], m: JupyterMessage): void {
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i].match(m)) {
        const [w] = waiters.splice(i, 1);
        w.resolve(m);
        return;
      }
    }
  }

  private socketOf(channel: RequestChannel): zmq.Dealer {
    return channel === "shell" ? this.shell : channel === "control" ? this.control : this.stdin;
  }

  /** Sends frames as-is (one send at a time per socket). */
  sendFrames(channel: RequestChannel, frames: Buffer[]): Promise<void> {
    const sock = this.socketOf(channel);
    const next = (this.sendTails.get(sock) ?? Promise.resolve()).then(() => sock.send(frames));
    this.sendTails.set(sock, next.catch(() => undefined));
    return next;
  }

  /** Builds a signed message (not sent). */
  message(msgType: string, content: object, parent?: JupyterMessage["header"]): JupyterMessage {
    return makeMessage({ msgType, content, session: this.session, parent: parent ?? {}, username: "test" }) as JupyterMessage;
  }

  /** Sends a message; returns its msg_id. */
  async send(channel: RequestChannel, msgType: string, content: object, parent?: JupyterMessage["header"]): Promise<string> {
    const msg = this.message(msgType, content, parent);
    await this.sendFrames(channel, encodeMessage(msg, this.signer));
    return msg.header.msg_id;
  }

  /** Resolves with the shell/control reply whose parent is `msgId`. */
  waitReply(msgId: string, timeoutMs = 30_000): Promise<JupyterMessage> {
    const seen = this.replyLog.find((m) => m.parent_header.msg_id === msgId);
    if (seen) return Promise.resolve(seen);
    return this.wait(this.replyWaiters, (m) => m.parent_header.msg_id === msgId, timeoutMs, `reply to ${msgId}`);
  }

  /** Resolves with the first iopub message (already received or future) that matches. */
  waitIopub(match: (m: JupyterMessage) => boolean, timeoutMs = 30_000, what = "iopub message"): Promise<JupyterMessage> {
    const seen = this.iopubLog.find(match);
    if (seen) return Promise.resolve(seen);
    return this.wait(this.iopubWaiters, match, timeoutMs, what);
  }

  /** Resolves with the status idle message of request `msgId`. */
  waitIdle(msgId: string, timeoutMs = 30_000): Promise<JupyterMessage> {
    return this.waitIopub(
      (m) => m.header.msg_type === "status" && m.content.execution_state === "idle" && m.parent_header.msg_id === msgId,
      timeoutMs,
      `status idle for ${msgId}`,
    );
  }

  private wait(waiters: Waiter[], match: (m: JupyterMessage) => boolean, timeoutMs: number, what: string): Promise<JupyterMessage> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      waiters.push(w);
    });
  }

  /** Sends a request and waits for both its reply and its status idle. */
  async request(channel: "shell" | "control", msgType: string, content: object, timeoutMs = 30_000): Promise<{ reply: JupyterMessage; iopub: JupyterMessage[] }> {
    const msg = this.message(msgType, content);
    const replyP = this.waitReply(msg.header.msg_id, timeoutMs);
    const idleP = this.waitIdle(msg.header.msg_id, timeoutMs);
    await this.sendFrames(channel, encodeMessage(msg, this.signer));
    const [reply] = await Promise.all([replyP, idleP]);
    return { reply, iopub: this.iopubOf(msg.header.msg_id) };
  }

  /** The iopub messages received so far whose parent is `msgId`. */
  iopubOf(msgId: string): JupyterMessage[] {
    return this.iopubLog.filter((m) => m.parent_header.msg_id === msgId);
  }

  /** Starts an execute_request without waiting; `done` resolves like `execute`. */
  async startExecute(code: string, opts: ExecuteOptions = {}): Promise<{ msgId: string; done: Promise<ExecuteResult> }> {
    const { onInput, timeoutMs = 30_000, ...flags } = opts;
    const msg = this.message("execute_request", {
      code,
      silent: flags.silent ?? false,
      store_history: flags.store_history ?? true,
      user_expressions: flags.user_expressions ?? {},
      allow_stdin: flags.allow_stdin ?? true,
      stop_on_error: flags.stop_on_error ?? true,
    });
    const msgId = msg.header.msg_id;
    const inputRequests: JupyterMessage[] = [];
    this.stdinHandlers.set(msgId, (req) => {
      inputRequests.push(req);
      if (!onInput) return;
      void Promise.resolve(onInput(String(req.content.prompt), req.content.password === true)).then((value) =>
        this.sendFrames("stdin", encodeMessage(this.message("input_reply", { value }, req.header), this.signer)),
      );
    });
    const replyP = this.waitReply(msgId, timeoutMs);
    const idleP = this.waitIdle(msgId, timeoutMs);
    await this.sendFrames("shell", encodeMessage(msg, this.signer));
    const done = Promise.all([replyP, idleP]).then(([reply]) => {
      this.stdinHandlers.delete(msgId);
      const iopub = this.iopubOf(msgId);
      const text = (name: string) =>
        iopub.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => m.content.text).join("");
      return {
        msgId,
        reply,
        iopub,
        stdout: text("stdout"),
        stderr: text("stderr"),
        result: iopub.find((m) => m.header.msg_type === "execute_result")?.content,
        error: iopub.find((m) => m.header.msg_type === "error")?.content,
        displays: iopub.filter((m) => ["display_data", "update_display_data", "clear_output"].includes(m.header.msg_type)),
        inputRequests,
      };
    });
    done.catch(() => this.stdinHandlers.delete(msgId));
    return { msgId, done };
  }

  /** Runs a cell and collects everything it produced. */
  async execute(code: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    return (await this.startExecute(code, opts)).done;
  }

  /** One heartbeat ping; true if echoed within `timeoutMs`. */
  async heartbeat(timeoutMs = 2000): Promise<boolean> {
    const payload = Buffer.from("ping-" + randomUUID());
    await this.hb.send(payload);
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), timeoutMs));
    const echo = await Promise.race([this.hb.receive(), timeout]);
    if (echo && Buffer.compare(echo[0], payload) === 0) return true;
    // A REQ socket that missed its answer cannot send again: replace it.
    this.hb.close();
    this.hb = new zmq.Request();
    this.hb.linger = 0;
    this.hb.connect(endpoint(this.info, "hb"));
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.shell, this.control, this.stdin, this.iopub, this.hb]) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}
