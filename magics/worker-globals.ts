/**
 * The names `%%pool run` cells defined on the workers (worker state: the kernel never sends its
 * own value of such a name), with which cell defined each and when, so that a task failing with
 * `ReferenceError: X is not defined` on a worker can say why that worker lacks X:
 *   - the worker joined the pool after the `%%pool run` cell ran (a `%pool start N` that grew the
 *     pool, or a replacement for a worker that stopped): run that cell again. Definitions are not
 *     replayed on new workers by themselves: a run cell may have side effects, depend on other
 *     cells run in between, or have been meant for some workers only (`--targets`);
 *   - X is declared with `declare` in the notebook, so it has no value in the kernel and is expected
 *     to be defined on the workers, and this worker does not have it.
 */
import type { BindingLookup } from "./capture.js";

interface Defined {
  /** Execution count of the `%%pool run` cell. */
  cell: number;
  /** The latest worker start when it was recorded (see `online`). */
  after: number;
}

/** The parts of a worker's error this reads and rewrites (the farm's RemoteError). */
interface WorkerError { name: string; message: string; remoteName: string; remoteMessage: string; workerId: number }

export class WorkerGlobals extends Set<string> {
  private readonly defined = new Map<string, Defined>();
  /** worker id -> sequence number of its latest start */
  private readonly started = new Map<number, number>();
  private starts = 0;

  constructor(private readonly cellNumber: () => number) {
    super();
  }

  /** A `%%pool run` cell (the one running now) defined `name` on the workers. */
  override add(name: string): this {
    this.defined?.set(name, { cell: this.cellNumber(), after: this.starts });
    return super.add(name);
  }

  override delete(name: string): boolean {
    this.defined.delete(name);
    return super.delete(name);
  }

  override clear(): void {
    this.defined.clear();
    this.started.clear();
    super.clear();
  }

  /** A worker (a new one, or one replacing another under the same id) came online. */
  online(workerId: number): void {
    this.started.set(workerId, ++this.starts);
  }

  /**
   * Adds to a worker's `ReferenceError: X is not defined` why that worker lacks X, when it is a
   * name the notebook expects on the workers; other errors are left as they are.
   */
  explain(err: unknown, bindings: BindingLookup): void {
    if (!isWorkerError(err) || err.remoteName !== "ReferenceError") return;
    const name = /^([\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$\u200c\u200d]*) is not defined$/u.exec(err.remoteMessage)?.[1];
    if (name === undefined) return;
    const w = err.workerId;
    const d = this.defined.get(name);
    let why: string | undefined;
    if (d && this.has(name)) {
      why = (this.started.get(w) ?? 0) > d.after
        ? `\`${name}\` was defined on the workers by the \`%%pool run\` cell [${d.cell}], which ran before worker ${w} joined the pool ` +
          `(added by \`%pool start\`, or replacing a worker that stopped), so worker ${w} does not have it. ` +
          `Run that cell again (it runs on every worker); definitions are not replayed on new workers by themselves`
        : `\`${name}\` was defined on the workers by the \`%%pool run\` cell [${d.cell}], but worker ${w} does not have it ` +
          `(that cell did not run there, e.g. with --targets, or failed there); run it again on every worker`;
    } else if (bindings.get(name)?.ambient) {
      why = `\`${name}\` is declared with \`declare\` in the notebook, so it has no value in the kernel and is expected to be ` +
        `defined on the workers (e.g. by a \`%%pool run\` cell), but worker ${w} does not have it`;
    }
    if (why === undefined) return;
    const message = `${err.remoteMessage}: ${why}`;
    err.message = err.message.replace(err.remoteMessage, message);
    (err as { remoteMessage: string }).remoteMessage = message;
  }
}

function isWorkerError(e: unknown): e is WorkerError {
  return typeof e === "object" && e !== null && (e as Error).name === "RemoteError" &&
    typeof (e as WorkerError).remoteMessage === "string" && typeof (e as WorkerError).workerId === "number";
}
