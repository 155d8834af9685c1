/**
 * The kernel's five zeromq sockets (shell, control, iopub, stdin, heartbeat), bound to the
 * endpoints of a connection file. Incoming frames are decoded and verified; messages with a bad
 * signature are dropped and logged to stderr. Outgoing messages are signed and sent one at a
 * time per socket (zeromq.js allows only one pending send per socket).
 */
import * as zmq from "zeromq";
import { endpoint, type Channel, type ConnectionInfo } from "./connection.js";
import { decodeMessage, encodeMessage, type JupyterMessage } from "./message.js";
import type { Signer } from "./signing.js";

export type MessageChannel = "shell" | "control" | "stdin";

/** Serialises sends on one socket so that at most one is in flight. */
export class SerialSender {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: zmq.Socket & { send(frames: Buffer[]): Promise<void> }, private readonly label: string) {}
  send(frames: Buffer[]): Promise<void> {
    const next = this.tail.then(() => this.socket.send(frames)).catch((e: Error) => {
      if (!this.socket.closed) process.stderr.write(`[tspool] failed to send on ${this.label}: ${e.message}\n`);
    });
    this.tail = next;
    return next;
  }
}

export class KernelSockets {
  readonly shell = new zmq.Router();
  readonly control = new zmq.Router();
  readonly iopub = new zmq.Publisher();
  readonly stdin = new zmq.Router();
  readonly hb = new zmq.Reply();
  private readonly senders: Record<Exclude<Channel, "hb">, SerialSender>;
  private closed = false;

  constructor(private readonly info: ConnectionInfo, private readonly signer: Signer) {
    for (const s of [this.shell, this.control, this.iopub, this.stdin, this.hb]) s.linger = 0;
    this.senders = {
      shell: new SerialSender(this.shell, "shell"),
      control: new SerialSender(this.control, "control"),
      iopub: new SerialSender(this.iopub, "iopub"),
      stdin: new SerialSender(this.stdin, "stdin"),
    };
  }

  async bind(): Promise<void> {
    await Promise.all([
      this.shell.bind(endpoint(this.info, "shell")),
      this.control.bind(endpoint(this.info, "control")),
      this.iopub.bind(endpoint(this.info, "iopub")),
      this.stdin.bind(endpoint(this.info, "stdin")),
      this.hb.bind(endpoint(this.info, "hb")),
    ]);
  }

  /** Starts the receive loops. `onMessage` is called for every verified message, in arrival order per channel. */
  listen(onMessage: (channel: MessageChannel, msg: JupyterMessage) => void): void {
    const loop = async (channel: MessageChannel, sock: zmq.Router) => {
      try {
        for await (const frames of sock) {
          const r = decodeMessage(frames, this.signer);
          if (!r.ok) {
            process.stderr.write(`[tspool] dropped a message on ${channel}: ${r.reason}\n`);
            continue;
          }
          try {
            onMessage(channel, r.message);
          } catch (e) {
            process.stderr.write(`[tspool] error handling ${r.message.header.msg_type} on ${channel}: ${(e as Error).stack}\n`);
          }
        }
      } catch (e) {
        if (!this.closed) process.stderr.write(`[tspool] ${channel} socket failed: ${(e as Error).message}\n`);
      }
    };
    void loop("shell", this.shell);
    void loop("control", this.control);
    void loop("stdin", this.stdin);
    void this.heartbeat();
  }

  /** Echoes every heartbeat ping. Runs in this (the kernel's) event loop: cells run in the executor child. */
  private async heartbeat(): Promise<void> {
    try {
      for await (const frames of this.hb) await this.hb.send(frames);
    } catch (e) {
      if (!this.closed) process.stderr.write(`[tspool] heartbeat socket failed: ${(e as Error).message}\n`);
    }
  }

  send(channel: Exclude<Channel, "hb">, msg: JupyterMessage<unknown>): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.senders[channel].send(encodeMessage(msg, this.signer));
  }

  /** Closes every socket; replies and iopub messages still queued get up to half a second to leave. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub, this.stdin]) s.linger = 500;
    for (const s of [this.shell, this.control, this.iopub, this.stdin, this.hb]) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}
