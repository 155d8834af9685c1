/**
 * Which text a completion replaces: one range for all matches, as Jupyter's complete_reply has
 * (cursor_start..cursor_end). It is what the language service says, when it says so: the
 * `replacementSpan` of string-literal and module-specifier entries (`"node:fs` -> the whole
 * `node:fs`, `"a-` -> `a-`), or its `optionalReplacementSpan` (the identifier at the cursor);
 * else the identifier before the cursor, or inside a string the path segment before it.
 * Positions are UTF-16 offsets of the code (the handler converts them to code points).
 */
import ts from "./typescript.cjs";

export interface Replacement {
  start: number;
  end: number;
  /** The text the matches must start with: from `start` to the cursor. */
  prefix: string;
  /** The cursor is inside a string literal (or module specifier): only the language service's entries apply there. */
  inString: boolean;
  /** The entries that replace exactly this range, each with the text that replaces it. */
  entries: Array<{ entry: ts.CompletionEntry; text: string }>;
}

const IDENT_CHAR = /^[\p{ID_Continue}$\u200c\u200d]$/u;

/** Start of the identifier that ends at `cursor`, stepping back by code points (so astral letters count whole). */
export function identifierStart(code: string, cursor: number): number {
  let start = cursor;
  for (let ch = codePointBefore(code, start); ch && IDENT_CHAR.test(ch); ch = codePointBefore(code, start)) start -= ch.length;
  return start;
}

function codePointBefore(code: string, at: number): string | undefined {
  if (at <= 0) return undefined;
  const low = code.charCodeAt(at - 1);
  if (low >= 0xdc00 && low <= 0xdfff && at >= 2) {
    const high = code.charCodeAt(at - 2);
    if (high >= 0xd800 && high <= 0xdbff) return code.slice(at - 2, at);
  }
  return code[at - 1];
}

/**
 * The range the completions at `cursor` replace, and the entries that fit it.
 * `fileOffset` is the cursor's position in the checked file (`sf`), where `found` was asked for.
 */
export function replacementFor(
  code: string, cursor: number, sf: ts.SourceFile, fileOffset: number, found: ts.CompletionInfo | undefined,
): Replacement {
  const entries = found?.entries ?? [];
  const inString = isInStringLiteral(sf, fileOffset);
  // A span in the file as a range of the code, relative to the cursor (no inserted text lies within a word).
  const toCode = (span: ts.TextSpan) => ({
    start: Math.max(0, cursor - (fileOffset - span.start)),
    end: Math.min(code.length, cursor + (span.start + span.length - fileOffset)),
  });
  let range: { start: number; end: number };
  const explicit = !inString ? undefined : entries.find((e) => e.replacementSpan && e.replacementSpan.start <= fileOffset && fileOffset <= e.replacementSpan.start + e.replacementSpan.length)?.replacementSpan;
  if (explicit) range = toCode(explicit);
  else if (inString) range = { start: segmentStart(code, cursor), end: cursor };
  else if (found?.optionalReplacementSpan) range = { start: toCode(found.optionalReplacementSpan).start, end: cursor };
  else range = { start: identifierStart(code, cursor), end: cursor };
  const fits: Replacement["entries"] = [];
  for (const entry of entries) {
    const own = entry.replacementSpan;
    if (!own || (explicit && own.start === explicit.start && own.length === explicit.length)) {
      fits.push({ entry, text: entry.insertText ?? entry.name });
    } else if (!inString && /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u.test(entry.name)) {
      // Its own edit reaches before the word (`?.name` for a possibly undefined value): the plain name still fits the word.
      fits.push({ entry, text: entry.name });
    }
    // Else (`["a-b"]` after a dot) it cannot be written into this range: left out.
  }
  return { ...range, prefix: code.slice(range.start, cursor), inString, entries: fits };
}

/** Inside a string, without a span from the language service: back to the quote or the last `/` (a path segment). */
function segmentStart(code: string, cursor: number): number {
  let start = cursor;
  while (start > 0 && !/["'`/\n]/.test(code[start - 1]!)) start--;
  return start;
}

/** Whether `pos` is within the text of a string literal or template literal part (not just after its closing quote). */
function isInStringLiteral(sf: ts.SourceFile, pos: number): boolean {
  let literal: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (node.getStart(sf) >= pos || node.getEnd() < pos) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node)) literal = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (!literal) return false;
  return pos < literal.getEnd() || !isClosed(literal.getText(sf));
}

/** Whether a literal's raw text ends with its closing delimiter (not an escaped one). */
function isClosed(raw: string): boolean {
  const close = raw.endsWith("${") ? "${" : raw[0] === "}" ? "`" : raw[0]!;
  if (raw.length < 2 || !raw.endsWith(close)) return false;
  if (close === "${") return true;
  let slashes = 0;
  for (let i = raw.length - 2; i >= 0 && raw[i] === "\\"; i--) slashes++;
  return slashes % 2 === 0;
}
