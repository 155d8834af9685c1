/**
 * Pipe(): a pair of connected Connections, like Python's multiprocessing.Pipe. What one end
 * sends, the other end receives, in order (structured-cloned values, handles allowed). Duplex by
 * default; `Pipe({ duplex: false })` gives [receiveOnly, sendOnly]. close() on one end lets the
 * other end read what is left and then fail with ConnectionClosedError.
 *
 * Both channels live in the realm that called Pipe(); either end can be passed to any worker.
 */

import { decodeHandles, encodeHandles, registerHandleKind, type HandleCaller } from "../handles.js";
import { ConnectionClosedError, SyncTimeoutError, SyncUsageError, abortReason } from "./errors.js";
import { Fifo } from "./fifo.js";
import {
  SharedPrimitive,
  fromWireTimeout,
  unknownMethod,
  wireTimeout,
  type Revival,
} from "./shared.js";
import { Deadline, checkTimeout, type WaitOptions } from "./wait.js";

/** The two channels: channel i is read by end i and written by the other end. */
class PipeChannels {
  readonly channels = [new Fifo<unknown>(0), new Fifo<unknown>(0)] as const;
  readonly closed = [false, false];
  constructor(readonly duplex: boolean) {}
}

type Side = 0 | 1;

export class Connection<T = unknown> extends SharedPrimitive {
  readonly #pipe: PipeChannels | null;
  readonly #side: Side;
  readonly #duplex: boolean;

  /** @internal made by Pipe(), or revived from a descriptor */
  constructor(init: { pipe: PipeChannels; side: Side } | undefined, revival?: Revival) {
    super("Connection", revival, revival === undefined);
    if (revival === undefined) {
      if (init === undefined) throw new TypeError("Connections are made in pairs: use Pipe()");
      this.#pipe = init.pipe;
      this.#side = init.side;
      this.#duplex = init.pipe.duplex;
    } else {
      const extra = revival.descriptor.extra as { side: Side; duplex: boolean };
      this.#pipe = null;
      this.#side = extra.side;
      this.#duplex = extra.duplex;
    }
  }

  protected handleKind(): string {
    return "Connection";
  }
  protected override handleExtra(): unknown {
    return { side: this.#side, duplex: this.#duplex };
  }

  /** Whether this end may receive (both ends of a duplex pipe; the first end of a one-way pipe). */
  get readable(): boolean {
    return this.#duplex || this.#side === 0;
  }
  /** Whether this end may send (both ends of a duplex pipe; the second end of a one-way pipe). */
  get writable(): boolean {
    return this.#duplex || this.#side === 1;
  }

  /** Sends a copy of `value` to the other end. */
  async send(value: T): Promise<void> {
    if (!this.writable) throw new SyncUsageError("this end of a one-way Pipe can only receive: send from the other end");
    if (this.#pipe === null) {
      await this.callRemote("send", [value]);
      return;
    }
    let stored: unknown;
    try {
      stored = structuredClone(encodeHandles(value));
    } catch (e) {
      throw new TypeError(`Connection.send: the value cannot be copied (${(e as Error).message})`);
    }
    this.#send(stored);
  }

  #send(stored: unknown): void {
    const pipe = this.#pipe!;
    if (pipe.closed[this.#side]) throw new ConnectionClosedError("send() on a closed Connection");
    if (pipe.closed[1 - this.#side]) throw new ConnectionClosedError("send(): the other end of the Pipe is closed");
    pipe.channels[1 - this.#side]!.tryPut(stored);
  }

  /**
   * Receives the next value, waiting for one. Rejects with ConnectionClosedError when the other
   * end was closed and nothing is left, or with SyncTimeoutError after `timeout` ms.
   */
  async recv(opts: WaitOptions = {}): Promise<T> {
    if (!this.readable) throw new SyncUsageError("this end of a one-way Pipe can only send: receive at the other end");
    const timeout = checkTimeout(opts.timeout, "Connection.recv");
    if (this.#pipe === null) {
      return (await this.callRemoteAbortable("recv", [wireTimeout(timeout)], this.signalFor(opts.signal), (v) =>
        this.callRemote("unrecv", [v]))) as T;
    }
    return decodeHandles(await this.#recv(new Deadline(timeout), this.signalFor(opts.signal)), null) as T;
  }

  #recv(deadline: Deadline, signal?: AbortSignal): Promise<unknown> {
    const pipe = this.#pipe!;
    if (pipe.closed[this.#side]) return Promise.reject(new ConnectionClosedError("recv() on a closed Connection"));
    const waited = deadline.remaining() > 0;
    return pipe.channels[this.#side]!.get(deadline, signal, () =>
      new SyncTimeoutError(waited ? "recv() timed out: nothing arrived" : "recv(): nothing to receive right now"),
    );
  }

  /** Resolves true when a value is ready to recv() (or the other end closed), false after `timeout` ms (default 0). */
  async poll(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout ?? 0, "Connection.poll");
    if (this.#pipe === null) return (await this.callRemoteAbortable("poll", [wireTimeout(timeout)], this.signalFor(opts.signal))) as boolean;
    return this.#pipe.channels[this.#side]!.readable(new Deadline(timeout), this.signalFor(opts.signal));
  }

  /** Closes this end: the other end can read what was sent, then gets ConnectionClosedError. */
  async close(): Promise<void> {
    if (this.#pipe === null) {
      await this.callRemote("close", []);
      return;
    }
    this.#close();
  }

  #close(): void {
    const pipe = this.#pipe!;
    if (pipe.closed[this.#side]) return;
    pipe.closed[this.#side] = true;
    pipe.channels[1 - this.#side]!.close(() => new ConnectionClosedError("the other end of the Pipe was closed"));
    pipe.channels[this.#side]!.close(() => new ConnectionClosedError("recv() on a closed Connection"));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  protected async serve(method: string, args: unknown[], caller: HandleCaller): Promise<unknown> {
    switch (method) {
      case "send":
        return this.#send(encodeHandles(args[0]));
      case "recv": {
        const stored = await this.#recv(new Deadline(fromWireTimeout(args[0])), caller.signal);
        if (caller.signal?.aborted) {
          this.#pipe!.channels[this.#side]!.unget(stored); // withdrawn as it completed: keep the message
          throw abortReason(caller.signal);
        }
        return decodeHandles(stored, null);
      }
      case "unrecv":
        return this.#pipe!.channels[this.#side]!.unget(encodeHandles(args[0]));
      case "poll":
        return this.#pipe!.channels[this.#side]!.readable(new Deadline(fromWireTimeout(args[0])), caller.signal);
      case "close":
        return this.#close();
      default:
        return unknownMethod("Connection", method);
    }
  }
}

/** Makes a connected pair of Connections. `duplex: false` gives [receiveOnly, sendOnly]. */
export function Pipe<T = unknown>(opts: { duplex?: boolean } = {}): [Connection<T>, Connection<T>] {
  const pipe = new PipeChannels(opts.duplex !== false);
  return [new Connection<T>({ pipe, side: 0 }), new Connection<T>({ pipe, side: 1 })];
}

registerHandleKind("Connection", (d, env) => new Connection(undefined, { descriptor: d, env }));
