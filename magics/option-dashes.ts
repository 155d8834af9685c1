/**
 * Options written with the wrong dashes: one hyphen (`-chunksize 2`, `-u`), three, a dash that
 * autocorrect makes of `--` (`—chunksize`, `–unordered`), or a space after them (`-- chunksize 2`). TypeScript would read them as a
 * subtraction or reject the character, and report something unrelated; the magic's parser asks
 * this module first, so that it can suggest the `--` form instead.
 *
 * A word is taken for such an option only where an option could stand (at the top level of the
 * arguments, that is outside brackets, strings, templates, regular expressions and comments, at
 * the start or after whitespace, with a letter right after the dashes) and only when its letters
 * name an option of the form or nearly do. So `range(-5, 5)`, `[-1, -2]`, `xs.map(x => x - 1)` and
 * `a - b` stay expressions. With a single hyphen the word must be the option's name, its start
 * (`-u`, `-chunk`) or one typo away from it (`-chunksiz`), since `n -offset` is a subtraction; such
 * a subtraction at the top level of an ITERABLE would give a number, which is not iterable, so
 * taking it for an option loses nothing. A typographic dash is never TypeScript outside strings:
 * one is reported whatever follows it.
 */
import type { OptionSpec } from "./forms.js";
import { scanExpression } from "./scan-expression.js";
import { closest, editDistance } from "./suggest.js";

const DASH_CHARS = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uFE58\uFE63\uFF0D";
const CANDIDATE = new RegExp(`(^|\\s)([${DASH_CHARS}]{1,3}[ \\t]*)([A-Za-z][A-Za-z0-9_-]*)`, "g");

const DASH_NAMES: Record<string, string> = {
  "\u2010": "a Unicode hyphen (‐)",
  "\u2011": "a non-breaking hyphen (‑)",
  "\u2012": "a figure dash (‒)",
  "\u2013": "an en dash (–)",
  "\u2014": "an em dash (—)",
  "\u2015": "a horizontal bar (―)",
  "\u2212": "a minus sign (−)",
  "\uFE58": "a small em dash (﹘)",
  "\uFE63": "a small hyphen (﹣)",
  "\uFF0D": "a full-width hyphen (－)",
};

export interface MisdashedOption {
  /** Where the dashes start in the arguments. */
  index: number;
  /** The dashes written instead of `--`, with the spaces after them if any (`-- chunksize`). */
  dashes: string;
  /** The letters after them (up to `=` or whitespace), e.g. "chunksize". */
  word: string;
  /** The options it can mean: one, several (an ambiguous first letter such as `-t`), or none. */
  meant: string[];
}

/**
 * What is wrong with the dashes, in words: "starts with one hyphen where options have two", or
 * "starts with an em dash (—) where options have two ASCII hyphens (autocorrect often turns `--` into a dash)".
 */
export function describeDashes(written: string): string {
  const dashes = written.trimEnd();
  const spaced = dashes !== written;
  if (dashes === "--" && spaced) return "has a space after `--`, where an option's name follows its two hyphens directly";
  const space = spaced ? " (and a space before the option's name)" : "";
  if (isAsciiHyphens(dashes)) return `starts with ${dashes.length === 1 ? "one hyphen" : `${dashes.length} hyphens`} where options have two${space}`;
  const odd = [...dashes].find((c) => c !== "-")!;
  return `starts with ${DASH_NAMES[odd] ?? "a dash"} where options have two ASCII hyphens${space} (autocorrect often turns \`--\` into a dash)`;
}

function isAsciiHyphens(dashes: string): boolean {
  return /^-+$/.test(dashes);
}

/** The options `word` can stand for; `strict` (one hyphen): only its name, its start, or one typo. */
function meanings(word: string, names: readonly string[], strict: boolean): string[] {
  const w = word.toLowerCase();
  const exact = names.filter((n) => n === w);
  if (exact.length) return exact;
  const started = names.filter((n) => n.startsWith(w));
  if (started.length) return started;
  if (strict) return names.filter((n) => w.length >= 4 && editDistance(w, n) <= 1);
  const guess = closest(word, names);
  return guess ? [guess] : [];
}

/** Whether the dashes at `index` stand where an option could: the scanner sees `--` there as an option. */
function atTopLevel(args: string, index: number, dashes: string): boolean {
  const asOption = args.slice(0, index) + "--" + args.slice(index + dashes.length);
  return scanExpression(asOption).optionStarts.includes(index);
}

/** Whether the word before `index` is `--NAME` of an option that takes a value (so the word at `index` is that value). */
function isOptionValue(args: string, index: number, options: readonly OptionSpec[]): boolean {
  const previous = /(?:^|\s)--([A-Za-z][\w-]*)\s+$/.exec(args.slice(0, index));
  return previous !== null && options.some((o) => o.name === previous[1] && o.kind !== "flag");
}

/** The words of `args` that are options of the form (`options`) written with the wrong dashes. */
export function findMisdashedOptions(args: string, options: readonly OptionSpec[]): MisdashedOption[] {
  if (options.length === 0) return [];
  const optionNames = options.map((o) => o.name);
  const found: MisdashedOption[] = [];
  for (const m of args.matchAll(CANDIDATE)) {
    const [, before, dashes, word] = m;
    if (dashes === "--") continue;
    // `a - b` is a subtraction; a space after two dashes or more is never TypeScript at the top level.
    if (dashes!.trimEnd() === "-" && dashes !== "-") continue;
    const index = m.index! + before!.length;
    if (isOptionValue(args, index, options)) continue; // `--out -u`: a bad value, which the option's check reports
    const ascii = isAsciiHyphens(dashes!.trimEnd());
    const meant = meanings(word!, optionNames, ascii);
    if (ascii && meant.length === 0) continue; // e.g. `n -offset`: a subtraction, TypeScript's to judge
    if (!atTopLevel(args, index, dashes!)) continue;
    found.push({ index, dashes: dashes!, word: word!, meant });
  }
  return found;
}
