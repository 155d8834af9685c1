/**
 * Pipe(): a pair of connected Connections, like Python's multiprocessing.Pipe. What one end
 * sends, the other end receives, in order (structured-cloned values, handles allowed). Duplex by
 * default; `Pipe({ duplex: false })` gives [receiveOnly, sendOnly]. close() on one end lets the
 * other end read what is left and then fail with ConnectionClosedError.
 *
 * Both channels live in the realm that called Pipe(); either end can be passed to any worker.
 *
 * An end that only workers hold closes when the last of them ends (exits, crashes, is retired or
 * terminated), as a process's end of a Python pipe closes when the process exits: the other end
 * reads what was sent, then gets ConnectionClosedError (end of file) instead of waiting for ever,
 * and sending to it fails. A worker holds an end from the moment it receives it (in task
 * arguments, a queue item, ...). An end the creating realm uses itself never closes that way.
 */

import { decodeHandles, encodeHandles, registerHandleKind } from "../handles.js";
import { ConnectionClosedError, SyncTimeoutError, SyncUsageError, abortReason } from "./errors.js";
import { Fifo } from "./fifo.js";
import { ServedWorkers } from "./served-workers.js";
import {
  SharedPrimitive,
  fromWireTimeout,
  unknownMethod,
  wireTimeout,
  type Revival,
  type ServedCaller,
} from "./shared.js";
import { Deadline, checkTimeout, type WaitOptions } from "./wait.js";

/** The two channels: channel i is read by end i and written by the other end. */
class PipeChannels {
  readonly channels = [new Fifo<unknown>(0), new Fifo<unknown>(0)] as const;
  readonly closed = [false, false];
  /** For an end closed because the workers holding it ended: which one ended last ("" = closed by close()). */
  readonly endedWith = ["", ""];
  /** Whether the realm that made the pipe used each end itself (then that end stays open until close()). */
  readonly usedHere = [false, false];
  constructor(readonly duplex: boolean) {}
}

/** " (why)" for an end closed because its holders ended, else "". */
function because(pipe: PipeChannels, side: number): string {
  const who = pipe.endedWith[side];
  return who === "" ? "" : ` (it was held by ${who}, which ended)`;
}

type Side = 0 | 1;

export class Connection<T = unknown> extends SharedPrimitive {
  readonly #pipe: PipeChannels | null;
  readonly #side: Side;
  readonly #duplex: boolean;
  /** The workers holding this end (only where the pipe lives). */
  readonly #holders = new ServedWorkers<true>(() => true, (_, workerId) => this.#holderEnded(workerId));

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
      // a worker received this end: it holds it from now on (until it uses it, nobody would know)
      if (revival.env !== null) this.callRemote("hold", []).catch(() => {});
    }
  }

  /** This realm (where the pipe lives) uses this end itself: it stays open until close(). */
  #useHere(): PipeChannels {
    const pipe = this.#pipe!;
    pipe.usedHere[this.#side] = true;
    return pipe;
  }

  #holderEnded(workerId: number): void {
    const pipe = this.#pipe!;
    if (this.#holders.size > 0 || pipe.usedHere[this.#side] || pipe.closed[this.#side]) return;
    this.#close(`worker ${workerId}`);
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
    this.#useHere();
    this.#send(stored);
  }

  #send(stored: unknown): void {
    const pipe = this.#pipe!;
    const side = this.#side, other = 1 - side;
    if (pipe.closed[side]) throw new ConnectionClosedError(`send() on a closed Connection${because(pipe, side)}`);
    if (pipe.closed[other]) throw new ConnectionClosedError(`send(): the other end of the Pipe is closed${because(pipe, other)}`);
    pipe.channels[other]!.tryPut(stored);
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
    this.#useHere();
    return decodeHandles(await this.#recv(new Deadline(timeout), this.signalFor(opts.signal)), null) as T;
  }

  #recv(deadline: Deadline, signal?: AbortSignal): Promise<unknown> {
    const pipe = this.#pipe!;
    if (pipe.closed[this.#side]) return Promise.reject(new ConnectionClosedError(`recv() on a closed Connection${because(pipe, this.#side)}`));
    const waited = deadline.remaining() > 0;
    return pipe.channels[this.#side]!.get(deadline, signal, () =>
      new SyncTimeoutError(waited ? "recv() timed out: nothing arrived" : "recv(): nothing to receive right now"),
    );
  }

  /** Resolves true when a value is ready to recv() (or the other end closed), false after `timeout` ms (default 0). */
  async poll(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout ?? 0, "Connection.poll");
    if (this.#pipe === null) return (await this.callRemoteAbortable("poll", [wireTimeout(timeout)], this.signalFor(opts.signal))) as boolean;
    return this.#useHere().channels[this.#side]!.readable(new Deadline(timeout), this.signalFor(opts.signal));
  }

  /** Closes this end: the other end can read what was sent, then gets ConnectionClosedError. */
  async close(): Promise<void> {
    if (this.#pipe === null) {
      await this.callRemote("close", []);
      return;
    }
    this.#close();
  }

  /** `endedWith`: closed because the workers holding this end ended, the last being this one. */
  #close(endedWith = ""): void {
    const pipe = this.#pipe!;
    const side = this.#side;
    if (pipe.closed[side]) return;
    pipe.closed[side] = true;
    pipe.endedWith[side] = endedWith;
    const eof =
      endedWith === ""
        ? "the other end of the Pipe was closed"
        : `end of the Pipe: the other end was held by ${endedWith}, which ended (exited or crashed); everything it sent has been received`;
    pipe.channels[1 - side]!.close(() => new ConnectionClosedError(eof));
    pipe.channels[side]!.close(() => new ConnectionClosedError(`recv() on a closed Connection${because(pipe, side)}`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  protected async serve(method: string, args: unknown[], caller: ServedCaller): Promise<unknown> {
    this.#holders.of(caller); // whoever uses an end holds it
    switch (method) {
      case "hold":
        return;
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
