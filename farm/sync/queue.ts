/**
 * Queue and JoinableQueue: FIFO queues of structured-cloned values (which may contain handles,
 * e.g. a Lock or another Queue) shared by the main program and any number of workers.
 *
 * The items live in the realm that created the queue; workers (threads and processes alike) send
 * their operations there. Items are copied on put, as with Python's multiprocessing.Queue:
 * changing an object after putting it does not change what getters receive.
 */

import { decodeHandles, encodeHandles, registerHandleKind } from "../handles.js";
import { QueueEmptyError, QueueFullError, SyncUsageError, TaskLostError, abortReason } from "./errors.js";
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

export interface QueueOptions {
  /** At most this many items; put() waits while full. 0 (default) = unbounded. */
  maxsize?: number;
}

function checkMaxsize(maxsize: unknown): number {
  if (maxsize === undefined) return 0;
  if (typeof maxsize !== "number" || !Number.isInteger(maxsize) || maxsize < 0) {
    throw new TypeError(`Queue maxsize must be an integer >= 0 (0 = unbounded), got ${String(maxsize)}`);
  }
  return maxsize;
}

function copyIn(item: unknown): unknown {
  try {
    return structuredClone(encodeHandles(item));
  } catch (e) {
    throw new TypeError(
      `Queue.put: the item cannot be copied (${(e as Error).message}); queue items must be structured-cloneable ` +
        "data (no functions or class instances other than tspool handles)",
    );
  }
}

export class Queue<T = unknown> extends SharedPrimitive {
  readonly maxsize: number;
  readonly #fifo: Fifo<unknown> | null;

  /**
   * @param opts `{ maxsize }` or the maxsize itself
   * @param revival internal: used when a queue arrives from another realm
   */
  constructor(opts: QueueOptions | number = {}, revival?: Revival) {
    super(new.target.name, revival, revival === undefined);
    if (revival === undefined) {
      this.maxsize = checkMaxsize(typeof opts === "number" ? opts : opts?.maxsize);
      this.#fifo = new Fifo(this.maxsize);
    } else {
      this.maxsize = (revival.descriptor.extra as { maxsize: number }).maxsize;
      this.#fifo = null;
    }
  }

  protected handleKind(): string {
    return "Queue";
  }
  protected override handleExtra(): unknown {
    return { maxsize: this.maxsize };
  }

  /** Adds `item`, waiting while the queue is full; rejects with QueueFullError after `timeout` ms. */
  async put(item: T, opts: WaitOptions = {}): Promise<void> {
    const timeout = checkTimeout(opts.timeout, "Queue.put");
    if (this.#fifo === null) {
      await this.callRemoteAbortable("put", [item, wireTimeout(timeout)], this.signalFor(opts.signal));
      return;
    }
    const stored = copyIn(item);
    this.countPut(1); // before the item becomes visible, so a fast getter's taskDone() finds it counted
    try {
      await this.#put(stored, new Deadline(timeout), this.signalFor(opts.signal));
    } catch (e) {
      this.countPut(-1);
      throw e;
    }
  }

  /** put() that never waits: rejects with QueueFullError if there is no room. */
  putNowait(item: T): Promise<void> {
    return this.put(item, { timeout: 0 });
  }

  #put(stored: unknown, deadline: Deadline, signal?: AbortSignal): Promise<void> {
    const waited = deadline.remaining() > 0;
    return this.#fifo!.put(stored, deadline, signal, () =>
      new QueueFullError(`the queue is full (maxsize ${this.maxsize})${waited ? " and stayed full until the timeout" : ""}`),
    );
  }

  /** Takes the oldest item, waiting while the queue is empty; rejects with QueueEmptyError after `timeout` ms. */
  async get(opts: WaitOptions = {}): Promise<T> {
    const timeout = checkTimeout(opts.timeout, "Queue.get");
    if (this.#fifo === null) {
      return (await this.callRemoteAbortable("get", [wireTimeout(timeout)], this.signalFor(opts.signal), (item) =>
        this.callRemote("unget", [item]))) as T;
    }
    const stored = await this.#get(new Deadline(timeout), this.signalFor(opts.signal));
    this.countTaken(null, 1);
    return decodeHandles(stored, null) as T;
  }

  /** get() that never waits: rejects with QueueEmptyError if there is nothing. */
  getNowait(): Promise<T> {
    return this.get({ timeout: 0 });
  }

  #get(deadline: Deadline, signal?: AbortSignal): Promise<unknown> {
    const timeout = deadline.remaining();
    return this.#fifo!.get(deadline, signal, () =>
      new QueueEmptyError(timeout === 0 ? "the queue is empty" : "the queue stayed empty until the timeout"),
    );
  }

  /** Number of items right now (a snapshot). */
  async qsize(): Promise<number> {
    if (this.#fifo === null) return (await this.callRemote("qsize", [])) as number;
    return this.#fifo.size;
  }
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }
  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.qsize()) >= this.maxsize;
  }

  protected async serve(method: string, args: unknown[], caller: ServedCaller): Promise<unknown> {
    switch (method) {
      case "put":
        // Arrived through IPC/postMessage: already a copy; only handles need re-encoding.
        this.countPut(1);
        try {
          await this.#put(encodeHandles(args[0]), new Deadline(fromWireTimeout(args[1])), caller.signal);
        } catch (e) {
          this.countPut(-1);
          throw e;
        }
        return;
      case "get": {
        const stored = await this.#get(new Deadline(fromWireTimeout(args[0])), caller.signal);
        if (caller.signal?.aborted) {
          this.#fifo!.unget(stored); // withdrawn as it completed: the item stays for others
          throw abortReason(caller.signal);
        }
        this.countTaken(caller, 1);
        return decodeHandles(stored, null);
      }
      case "unget":
        this.#fifo!.unget(encodeHandles(args[0]));
        this.countTaken(caller, -1);
        return;
      case "qsize":
        return this.#fifo!.size;
      default:
        return this.serveMore(method, args, caller);
    }
  }

  /** Called around every put in this realm (JoinableQueue counts unfinished tasks). */
  protected countPut(_delta: 1 | -1): void {}
  /** Called when a get in this realm hands an item out (+1) or a withdrawn get gives it back (-1); `caller` null: this realm itself. */
  protected countTaken(_caller: ServedCaller | null, _delta: 1 | -1): void {}
  protected serveMore(method: string, _args: unknown[], _caller: ServedCaller): unknown {
    return unknownMethod(this.constructor.name, method);
  }
}

/** Items got and not yet marked done by one worker. */
interface Consumer {
  taken: number;
}

/**
 * A Queue that also counts unfinished tasks: every put() adds one, every taskDone() removes one,
 * and join() waits until the count is back to zero (all items got and processed).
 *
 * A consumer that dies with items it got and had not marked done would leave join() waiting for
 * ever. So every item got counts as taken by the worker that got it until a taskDone() from that
 * worker (a taskDone() from a worker that took none marks another consumer's item done). When a
 * worker ends, the items it still had are counted as done and as lost: from then on join()
 * rejects with TaskLostError, once every other item is done, until clearLostTasks() is called.
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  #unfinished = 0;
  readonly #joiners = new Set<() => void>();
  /** Items got by this realm itself (or by callers without a life signal) and not yet marked done. */
  readonly #here: Consumer = { taken: 0 };
  readonly #consumers = new ServedWorkers<Consumer>(() => ({ taken: 0 }), (c, workerId) => this.#consumerEnded(c, workerId));
  /** Items counted as done because the worker that had them ended, since creation or clearLostTasks(). */
  #lost = 0;
  #lastLoss = "";
  /** Lost items whose taskDone() may still come from another worker they were handed to (then it is not an error). */
  #lostLate = 0;

  protected override handleKind(): string {
    return "JoinableQueue";
  }

  protected override countPut(delta: 1 | -1): void {
    this.#unfinished += delta;
  }

  protected override countTaken(caller: ServedCaller | null, delta: 1 | -1): void {
    const consumer = this.#consumerOf(caller);
    consumer.taken = Math.max(0, consumer.taken + delta);
  }

  /** Whose count an item got (or marked done) by `caller` goes to. */
  #consumerOf(caller: ServedCaller | null): Consumer {
    return (caller === null ? undefined : this.#consumers.of(caller)) ?? this.#here;
  }

  /** Marks one item obtained with get() as processed. Calling it more often than put() is an error. */
  async taskDone(): Promise<void> {
    if (this.isRemote) {
      await this.callRemote("taskDone", []);
      return;
    }
    this.#taskDone(null);
  }

  #taskDone(caller: ServedCaller | null): void {
    if (!this.#markDone(caller)) {
      if (this.#lostLate > 0) {
        this.#lostLate--; // an item its first consumer took to its end, finished by another worker after all
        return;
      }
      if (this.#unfinished <= 0) throw new SyncUsageError("JoinableQueue.taskDone() called more times than there were items put");
    }
    this.#unfinished--;
    if (this.#unfinished === 0) this.#wakeJoiners();
  }

  /** Takes one taken item off the caller's count, else off anybody's; false when nobody has one. */
  #markDone(caller: ServedCaller | null): boolean {
    const own = this.#consumerOf(caller);
    if (own.taken > 0) {
      own.taken--;
      return true;
    }
    for (const other of [...this.#consumers.states(), this.#here]) {
      if (other.taken > 0) {
        other.taken--;
        return true;
      }
    }
    return false;
  }

  /** A worker ended with items it got and never marked done: they count as done, and as lost. */
  #consumerEnded(consumer: Consumer, workerId: number): void {
    const n = Math.min(consumer.taken, this.#unfinished);
    if (n === 0) return;
    this.#lost += n;
    this.#lostLate += n;
    this.#lastLoss = `worker ${workerId} ended with ${n}`;
    this.#unfinished -= n;
    if (this.#unfinished === 0) this.#wakeJoiners();
  }

  #wakeJoiners(): void {
    for (const wake of [...this.#joiners]) wake();
  }

  #lostError(): TaskLostError {
    return new TaskLostError(
      `${this.#lost} item(s) of this JoinableQueue were taken by workers that ended before calling taskDone() ` +
        `(last: ${this.#lastLoss}); they were counted as done so that join() does not wait for ever. ` +
        "Deal with them (put them again if they must be processed), then call clearLostTasks(); lostTasks() tells how many",
    );
  }

  /** How many items were counted as done because the worker that took them ended before taskDone() (since creation or clearLostTasks()). */
  async lostTasks(): Promise<number> {
    if (this.isRemote) return (await this.callRemote("lostTasks", [])) as number;
    return this.#lost;
  }

  /** Acknowledges the lost items: join() resolves normally again. */
  async clearLostTasks(): Promise<void> {
    if (this.isRemote) {
      await this.callRemote("clearLostTasks", []);
      return;
    }
    this.#lost = 0;
  }

  /**
   * Resolves true once every item put so far has been marked done, false after `timeout` ms.
   * Rejects with TaskLostError if, by then, items were lost with a worker that ended (see the
   * class comment) and not acknowledged with clearLostTasks().
   */
  async join(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout, "JoinableQueue.join");
    if (this.isRemote) {
      return (await this.callRemoteAbortable("join", [wireTimeout(timeout)], this.signalFor(opts.signal))) as boolean;
    }
    return this.#join(timeout, this.signalFor(opts.signal));
  }

  #join(timeout: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#unfinished === 0) return this.#lost > 0 ? Promise.reject(this.#lostError()) : Promise.resolve(true);
    if (timeout === 0) return Promise.resolve(false);
    signal?.throwIfAborted();
    return new Promise<boolean>((resolve, reject) => {
      const timer = timeout === Infinity ? null : setTimeout(() => finish(() => resolve(false)), Math.min(timeout, 2 ** 31 - 1));
      const onAbort = () => finish(() => reject(signal!.reason));
      const wake = () => finish(() => (this.#lost > 0 ? reject(this.#lostError()) : resolve(true)));
      const finish = (settle: () => void) => {
        if (timer !== null) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#joiners.delete(wake);
        settle();
      };
      this.#joiners.add(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Items put but not yet marked done (a snapshot). */
  async unfinished(): Promise<number> {
    if (this.isRemote) return (await this.callRemote("unfinished", [])) as number;
    return this.#unfinished;
  }

  protected override serveMore(method: string, args: unknown[], caller: ServedCaller): unknown {
    switch (method) {
      case "taskDone":
        return this.#taskDone(caller);
      case "join":
        return this.#join(fromWireTimeout(args[0]), caller.signal);
      case "unfinished":
        return this.#unfinished;
      case "lostTasks":
        return this.#lost;
      case "clearLostTasks":
        this.#lost = 0;
        return;
      default:
        return unknownMethod("JoinableQueue", method);
    }
  }
}

registerHandleKind("Queue", (d, env) => new Queue({}, { descriptor: d, env }));
registerHandleKind("JoinableQueue", (d, env) => new JoinableQueue({}, { descriptor: d, env }));
