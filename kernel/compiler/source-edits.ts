/**
 * Text inserted into a cell's source that the user did not write: for the code that runs (a
 * name to hold a value) or for the type checker alone (a context that types a function). The
 * user's own text keeps its place, so diagnostics found in the edited text are reported at
 * the line and column of the source the user wrote.
 */

export interface SourceEdit {
  /** Offset in the original source where `text` goes (edits at one offset keep their order). */
  at: number;
  text: string;
  /** Seen by the type checker only; the code that runs does not have it. */
  checkOnly?: boolean;
  /** Where a diagnostic that starts inside `text` is reported (default: `at`, length 0). */
  report?: { at: number; length: number };
  /** Said before the message of a diagnostic with this code that starts inside `text` or right after it. */
  explain?: { code: number; text: string };
}

/** The source with the edits applied: all of them for the checker, the others for running. */
export function applyEdits(source: string, edits: readonly SourceEdit[], forCheck: boolean): string {
  const used = sorted(edits).filter((e) => forCheck || !e.checkOnly);
  let out = "";
  let from = 0;
  for (const e of used) {
    out += source.slice(from, e.at) + e.text;
    from = e.at;
  }
  return out + source.slice(from);
}

/**
 * A span of the checked text (all edits applied) as a span of the original source: shifted
 * back past the inserted text before it, or the edit's report span when it starts inside one.
 */
export function toSourceSpan(
  edits: readonly SourceEdit[], start: number, length: number,
): { start: number; length: number; explain?: SourceEdit["explain"] } {
  const all = sorted(edits);
  const back = (offset: number): { at: number; inside?: SourceEdit; after?: SourceEdit } => {
    let shift = 0;
    let after: SourceEdit | undefined;
    for (const e of all) {
      const begin = e.at + shift;
      if (offset < begin) break;
      if (offset < begin + e.text.length) return { at: e.at, inside: e };
      shift += e.text.length;
      after = offset === begin + e.text.length ? e : undefined;
    }
    return { at: offset - shift, after };
  };
  const s = back(start);
  const explain = (s.inside ?? s.after)?.explain;
  if (s.inside) {
    const r = s.inside.report;
    return { start: r ? r.at : s.at, length: r ? r.length : 0, explain };
  }
  const end = back(start + length);
  return { start: s.at, length: Math.max(0, end.at - s.at), explain };
}

function sorted(edits: readonly SourceEdit[]): SourceEdit[] {
  return edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i).map(({ e }) => e);
}
