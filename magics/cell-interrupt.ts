/**
 * Whether the cell a magic runs for was interrupted since the magic began. An interrupt ends the
 * cell at once (the executor answers it with `Interrupted`), but the magic's own code goes on from
 * wherever it was awaiting: it must then stop, without starting work on the pool, writing to the
 * finished cell or binding its results. A magic takes a watch when it begins and asks it after
 * every await (`check` throws CellInterrupted, which the dispatcher turns into the Interrupted
 * error nobody sees any more).
 */
/** What a magic needs to know about interrupts: how many the session has had so far. */
export interface InterruptCounter {
  readonly interrupts: number;
}

/** Thrown by InterruptWatch.check when the cell was interrupted. */
export class CellInterrupted extends Error {
  constructor() {
    super("the cell was interrupted");
    this.name = "CellInterrupted";
  }
}

export interface InterruptWatch {
  /** Whether an interrupt came since the watch began. */
  readonly interrupted: boolean;
  /** Throws CellInterrupted if an interrupt came since the watch began. */
  check(): void;
}

export function watchInterrupts(session: InterruptCounter): InterruptWatch {
  const at = session.interrupts;
  const watch: InterruptWatch = {
    get interrupted() {
      return session.interrupts !== at;
    },
    check() {
      if (watch.interrupted) throw new CellInterrupted();
    },
  };
  return watch;
}
