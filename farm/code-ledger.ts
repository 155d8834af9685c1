/**
 * The parent's record of the code one worker holds: task bundles (by hash) and their
 * dependencies (by content key). A job carries only what its worker lacks: the hash alone for a
 * bundle the worker has, else the bundle with the dependencies the worker holds sent as
 * references, so a new cell or function that uses the same data does not send the data again.
 *
 * The worker holds one dependency per global name, the last one sent (the one before is let go,
 * so data replaced in the notebook does not pile up in the worker's memory), and the latest
 * scripts. A bundle that used a dependency let go is forgotten too: it is sent again if needed.
 * A replacement worker comes with a new, empty ledger, so it gets everything. Values go as the
 * snapshots taken when the call was made (value-snapshot.ts), whenever they are sent.
 */
import { depSlot } from "./dep-slot.js";
import { type CodeMessage, type Dep, type HeldDep, type PreparedCode, type SnapshotDep, type WireBundle } from "./task-code.js";

/** Scripts (e.g. class-instance fix-ups) a worker keeps at most; the oldest are let go first. */
const MAX_SCRIPTS = 100;

const HELD: HeldDep = { held: true };

/** What one job sends. `commit` records it once the message went out (nothing is recorded if sending fails). */
export interface CodePlan {
  message: CodeMessage;
  commit(): void;
}

export class CodeLedger {
  /** bundle hash -> the keys of its dependencies */
  private readonly bundles = new Map<string, readonly string[]>();
  /** dependency key -> the global it defines (see depSlot) */
  private readonly deps = new Map<string, string>();
  /** global -> key of the dependency that defined it last */
  private readonly bySlot = new Map<string, string>();
  /** keys of the scripts held, oldest first */
  private scripts: string[] = [];

  /** What to send so that the worker can run `code`; `encode` prepares a dependency's value for the wire. */
  plan(code: PreparedCode, encode: (value: unknown) => unknown): CodePlan {
    const { hash, bundle } = code;
    const call = code.call === undefined ? {} : { call: code.call };
    if (this.bundles.has(hash)) return { message: { hash, ...call }, commit: () => {} };
    const keys = bundle.depKeys;
    const inBundle = new Set(keys);
    const deps: (Dep | SnapshotDep | HeldDep)[] = [];
    const added: [key: string, slot: string][] = [];
    for (let i = 0; i < bundle.deps.length; i++) {
      const d = bundle.deps[i];
      if (this.deps.has(keys[i])) {
        deps.push(HELD);
        continue;
      }
      const snapshot = bundle.snapshots[i];
      deps.push(!("value" in d) ? d : snapshot !== undefined ? { name: d.name, snapshot } : { name: d.name, value: encode(d.value) });
      added.push([keys[i], depSlot(d, keys[i])]);
    }
    // What the worker may let go of: what these dependencies replace, and the oldest scripts.
    const forget = new Set<string>();
    const letGo = (key: string | undefined) => {
      if (key !== undefined && !inBundle.has(key)) forget.add(key);
    };
    for (const [key, slot] of added) {
      const previous = this.bySlot.get(slot);
      if (previous !== key) letGo(previous);
    }
    const scripts = [...this.scripts, ...added.filter(([, slot]) => slot.startsWith("script:")).map(([key]) => key)];
    for (let i = 0; i < scripts.length - MAX_SCRIPTS; i++) letGo(scripts[i]);

    const { snapshots: _snapshots, ...rest } = bundle;
    const wire: WireBundle = { ...rest, deps };
    if (forget.size) wire.forget = [...forget];
    return {
      message: { hash, bundle: wire, ...call },
      commit: () => {
        for (const [key, slot] of added) {
          this.deps.set(key, slot);
          this.bySlot.set(slot, key);
          if (slot.startsWith("script:")) this.scripts.push(key);
        }
        for (const key of forget) this.drop(key);
        this.bundles.set(hash, keys);
      },
    };
  }

  private drop(key: string): void {
    const slot = this.deps.get(key);
    if (slot === undefined) return;
    this.deps.delete(key);
    if (this.bySlot.get(slot) === key) this.bySlot.delete(slot);
    if (slot.startsWith("script:")) this.scripts = this.scripts.filter((k) => k !== key);
    for (const [hash, keys] of this.bundles) if (keys.includes(key)) this.bundles.delete(hash);
  }
}
