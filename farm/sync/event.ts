/** Event over one SharedArrayBuffer: cell 0 is the flag. wait() resolves once it is set. */

import { registerHandleKind, type HandleCaller } from "../handles.js";
import { SharedPrimitive, canShareMemory, fromWireTimeout, unknownMethod, wireTimeout, type Revival } from "./shared.js";
import { Deadline, checkTimeout, waitWhile, wakeAll, type WaitOptions } from "./wait.js";

export class Event extends SharedPrimitive {
  readonly #cells: Int32Array | null;

  /** @param revival internal: used when an Event arrives from another realm */
  constructor(revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("Event", revival, local);
    this.#cells = local ? new Int32Array(revival?.descriptor.sab ?? new SharedArrayBuffer(4)) : null;
  }

  protected handleKind(): string {
    return "Event";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#cells!.buffer as SharedArrayBuffer;
  }

  /** Sets the flag and wakes every waiter. */
  async set(): Promise<void> {
    if (this.#cells === null) {
      await this.callRemote("set", []);
      return;
    }
    Atomics.store(this.#cells, 0, 1);
    wakeAll(this.#cells, 0);
  }

  /** Clears the flag: later wait() calls wait again. */
  async clear(): Promise<void> {
    if (this.#cells === null) {
      await this.callRemote("clear", []);
      return;
    }
    Atomics.store(this.#cells, 0, 0);
  }

  async isSet(): Promise<boolean> {
    if (this.#cells === null) return (await this.callRemote("isSet", [])) as boolean;
    return Atomics.load(this.#cells, 0) === 1;
  }

  /** Resolves true once the flag is set, or false if `timeout` ms pass first. */
  async wait(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout, "Event.wait");
    if (this.#cells === null) {
      return (await this.callRemoteAbortable("wait", [wireTimeout(timeout)], this.signalFor(opts.signal))) as boolean;
    }
    return this.#wait(new Deadline(timeout), this.signalFor(opts.signal));
  }

  async #wait(deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
    const cells = this.#cells!;
    for (;;) {
      if (Atomics.load(cells, 0) === 1) return true;
      const r = await waitWhile(cells, 0, 0, deadline, signal);
      if (r === "timed-out") return Atomics.load(cells, 0) === 1;
    }
  }

  protected async serve(method: string, args: unknown[], caller: HandleCaller): Promise<unknown> {
    switch (method) {
      case "set":
        return this.set();
      case "clear":
        return this.clear();
      case "isSet":
        return this.isSet();
      case "wait":
        return this.#wait(new Deadline(fromWireTimeout(args[0])), caller.signal);
      default:
        return unknownMethod("Event", method);
    }
  }
}

registerHandleKind("Event", (d, env) => new Event({ descriptor: d, env }));
