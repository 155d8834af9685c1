/**
 * Parses a magic cell (its first non-blank line starts with `%`) into a typed command, or throws a
 * MagicUsageError that says what is wrong and suggests the closest valid form.
 *
 * Line magics are one line each; a cell may hold several line magics, one per line. A cell magic
 * (`%%name ...`) owns the rest of the cell as its body.
 */
import type { ExecuteError } from "../kernel/executor/protocol.js";
import { MAGICS, POOL_SUBCOMMANDS, type OptionSpec, type SubcommandSpec } from "./forms.js";
import { scanExpression } from "./scan-expression.js";
import { closest } from "./suggest.js";
import { isValidName, outNameProblem } from "./variable-names.js";
import { describeDashes, findMisdashedOptions, type MisdashedOption } from "./option-dashes.js";

export interface MapOptions {
  chunksize?: number;
  unordered: boolean;
  out?: string;
  timeline: boolean;
  retries?: number;
  timeout?: number;
}

/** Where the body of a cell magic sits in the cell: its first line is cell line `lineOffset + 1`. */
export interface CellBody {
  body: string;
  lineOffset: number;
}

export type LineMagic =
  | { kind: "pool-start"; workers?: number; threads: boolean }
  | { kind: "pool-status" }
  | { kind: "pool-stop" }
  | { kind: "pool-restart" }
  | { kind: "pool-help" }
  | { kind: "pool-push"; names: string[] }
  | { kind: "pool-pull"; name: string }
  | { kind: "lsmagic" }
  | { kind: "who" }
  | { kind: "time"; code: string; lineOffset: number; column: number }
  | { kind: "timeit"; code: string; lineOffset: number; column: number; number?: number; repeat?: number };

export type CellMagic =
  | ({ kind: "pool-map"; star: boolean; iterable: string; options: MapOptions } & CellBody)
  | ({ kind: "pool-run"; targets?: number[]; out?: string } & CellBody)
  | ({ kind: "time-cell" } & CellBody)
  | ({ kind: "timeit-cell"; number?: number; repeat?: number } & CellBody);

export type ParsedCell =
  | { type: "line"; magics: LineMagic[] }
  | { type: "cell"; magic: CellMagic };

export class MagicUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A malformed magic as the cell's error: `UsageError` and the message saying what to write instead. */
export function usageError(message: string): ExecuteError {
  return { status: "error", ename: "UsageError", evalue: message, traceback: [`UsageError: ${message}`] };
}

/** True when the cell is a magic cell: its first non-blank line starts with `%`. */
export function isMagicCell(code: string): boolean {
  const first = code.split("\n").find((l) => l.trim() !== "");
  return first !== undefined && first.trimStart().startsWith("%");
}

export function parseMagicCell(code: string): ParsedCell {
  const lines = code.split("\n");
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first < 0 || !lines[first].trimStart().startsWith("%")) {
    throw new MagicUsageError("not a magic cell: the first non-blank line must start with % or %%");
  }
  const head = lines[first].trim();
  if (head.startsWith("%%")) {
    const body = lines.slice(first + 1).join("\n");
    return { type: "cell", magic: parseCellMagic(head, body, first + 1) };
  }
  const magics: LineMagic[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const trimmed = line.trim();
    if (!trimmed.startsWith("%")) {
      throw new MagicUsageError(
        `line ${i + 1}: \`${clip(trimmed)}\` is TypeScript after a line magic. A line magic takes its own line; ` +
          `put the code in the next cell, or use a cell magic such as \`%%time\` to run a whole cell.`,
      );
    }
    if (trimmed.startsWith("%%")) {
      throw new MagicUsageError(
        `line ${i + 1}: the cell magic \`${clip(trimmed)}\` must be the first line of its cell.`,
      );
    }
    magics.push(parseLineMagic(trimmed, i, line.indexOf("%")));
  }
  return { type: "line", magics };
}

function clip(s: string, max = 60): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Splits `%name rest` into name and rest. */
function splitHead(line: string, prefix: "%" | "%%"): { name: string; rest: string; restStart: number } {
  const after = line.slice(prefix.length);
  const m = /^([A-Za-z_][\w-]*)?/.exec(after)!;
  const name = m[1] ?? "";
  const restRaw = after.slice(name.length);
  const lead = restRaw.length - restRaw.trimStart().length;
  return { name, rest: restRaw.trim(), restStart: prefix.length + name.length + lead };
}

function unknownMagic(name: string, prefix: "%" | "%%", rest: string): MagicUsageError {
  const sameKind = MAGICS.filter((m) => (prefix === "%" ? m.line : m.cell)).map((m) => m.name);
  const otherKind = MAGICS.filter((m) => (prefix === "%" ? m.cell : m.line)).map((m) => m.name);
  const written = `${prefix}${name}${rest ? " " + rest : ""}`;
  if (name === "") {
    return new MagicUsageError(`\`${clip(written)}\`: a magic name must follow ${prefix}. ${listHint()}`);
  }
  if (otherKind.includes(name)) {
    const other = prefix === "%" ? "%%" : "%";
    const kind = prefix === "%" ? "cell magic" : "line magic";
    return new MagicUsageError(
      `\`${prefix}${name}\` does not exist; \`${other}${name}\` is a ${kind}: did you mean \`${other}${name}${rest ? " " + rest : ""}\`?`,
    );
  }
  const guess = closest(name, sameKind);
  if (guess) {
    return new MagicUsageError(`unknown magic \`${prefix}${name}\`: did you mean \`${prefix}${guess}${rest ? " " + rest : ""}\`?`);
  }
  return new MagicUsageError(`unknown magic \`${prefix}${name}\`. ${listHint()}`);
}

function listHint(): string {
  return "Run `%lsmagic` for the list of magics, `%pool help` for the pool's.";
}

function parseLineMagic(line: string, lineIndex: number, indent: number): LineMagic {
  const { name, rest, restStart } = splitHead(line, "%");
  switch (name) {
    case "pool":
      return parsePoolLine(rest);
    case "lsmagic":
      noArguments("%lsmagic", rest);
      return { kind: "lsmagic" };
    case "who":
      noArguments("%who", rest);
      return { kind: "who" };
    case "time":
      if (rest === "") throw new MagicUsageError("`%time` needs a statement to time, e.g. `%time fib(25)`; use `%%time` on the first line to time a whole cell.");
      return { kind: "time", code: rest, lineOffset: lineIndex, column: indent + restStart };
    case "timeit": {
      const t = parseTimeitOptions(rest, "%timeit");
      if (t.code === "") throw new MagicUsageError("`%timeit` needs a statement to time, e.g. `%timeit fib(20)`; use `%%timeit` on the first line to time a whole cell.");
      return { kind: "timeit", code: t.code, number: t.number, repeat: t.repeat, lineOffset: lineIndex, column: indent + restStart + t.codeStart };
    }
    default:
      throw unknownMagic(name, "%", rest);
  }
}

function noArguments(form: string, rest: string): void {
  if (rest !== "") throw new MagicUsageError(`\`${form}\` takes no arguments (got \`${clip(rest)}\`): write just \`${form}\`.`);
}

function parseCellMagic(head: string, body: string, lineOffset: number): CellMagic {
  const { name, rest } = splitHead(head, "%%");
  switch (name) {
    case "pool":
      return parsePoolCell(rest, body, lineOffset);
    case "time":
      noArguments("%%time", rest);
      requireBody("%%time", body, "the statements to time");
      return { kind: "time-cell", body, lineOffset };
    case "timeit": {
      const t = parseTimeitOptions(rest, "%%timeit");
      if (t.code !== "") throw new MagicUsageError(`\`%%timeit\` takes only -n N and -r R on its line (got \`${clip(t.code)}\`); the code to time goes below it.`);
      requireBody("%%timeit", body, "the statements to time");
      return { kind: "timeit-cell", number: t.number, repeat: t.repeat, body, lineOffset };
    }
    default:
      throw unknownMagic(name, "%%", rest);
  }
}

function requireBody(form: string, body: string, what: string): void {
  if (body.trim() === "") throw new MagicUsageError(`\`${form}\` needs a body: put ${what} on the lines below the magic.`);
}

function parseTimeitOptions(rest: string, form: string): { code: string; codeStart: number; number?: number; repeat?: number } {
  let pos = 0;
  let number: number | undefined;
  let repeat: number | undefined;
  const re = /^\s*-([nr])(?:\s+|=)?(\S*)\s*/;
  for (;;) {
    const m = re.exec(rest.slice(pos));
    if (!m) break;
    const value = m[2];
    if (!/^[1-9][0-9]*$/.test(value)) {
      throw new MagicUsageError(`\`${form} -${m[1]}\` needs a positive whole number${value ? ` (got \`${value}\`)` : ""}, e.g. \`${form} -${m[1]} 10 ...\`.`);
    }
    if (m[1] === "n") number = Number(value);
    else repeat = Number(value);
    pos += m[0].length;
  }
  return { code: rest.slice(pos).trim(), codeStart: pos, number, repeat };
}

// ---- %pool -------------------------------------------------------------------------------------

function subcommandError(sub: string, cell: boolean, rest: string): MagicUsageError {
  const prefix = cell ? "%%" : "%";
  const same = POOL_SUBCOMMANDS.filter((s) => s.cell === cell);
  const other = POOL_SUBCOMMANDS.filter((s) => s.cell !== cell);
  if (sub === "") {
    return new MagicUsageError(
      `\`${prefix}pool\` needs a subcommand: ${same.map((s) => "`" + prefix + "pool " + s.name + "`").join(", ")}. See \`%pool help\`.`,
    );
  }
  const otherMatch = other.find((s) => s.name === sub.toLowerCase());
  if (otherMatch) return wrongKind(otherMatch, rest);
  const guess = closest(sub, same.map((s) => s.name));
  if (guess) {
    const spec = same.find((s) => s.name === guess)!;
    const args = rest !== "" ? rest : spec.example;
    return new MagicUsageError(
      `unknown subcommand \`${prefix}pool ${sub}\`: did you mean \`${prefix}pool ${guess}${args ? " " + args : ""}\`?`,
    );
  }
  const otherGuess = closest(sub, other.map((s) => s.name));
  if (otherGuess) return wrongKind(other.find((s) => s.name === otherGuess)!, rest, sub);
  return new MagicUsageError(`unknown subcommand \`${prefix}pool ${sub}\`. See \`%pool help\` for the valid forms.`);
}

function wrongKind(spec: SubcommandSpec, rest: string, typed?: string): MagicUsageError {
  const args = rest !== "" ? rest : spec.example;
  const form = `${spec.cell ? "%%" : "%"}pool ${spec.name}${args ? " " + args : ""}`;
  const what = typed && typed !== spec.name ? `\`${typed}\` is not a subcommand here` : `\`${spec.name}\` is a ${spec.cell ? "cell" : "line"} magic`;
  const where = spec.cell
    ? "with the magic as the first line of the cell and the function below it"
    : "on a line of its own";
  return new MagicUsageError(`${what}: did you mean \`${form}\` (${where})?`);
}

function splitSub(rest: string): { sub: string; args: string } {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(rest)!;
  return { sub: m[1], args: m[2].trim() };
}

function parsePoolLine(rest: string): LineMagic {
  const { sub, args } = splitSub(rest);
  const spec = POOL_SUBCOMMANDS.find((s) => !s.cell && s.name === sub);
  if (!spec) throw subcommandError(sub, false, args);
  switch (spec.name) {
    case "start": {
      const { positional, options } = parseOptions(args, spec, "%pool start");
      if (positional.length > 1) throw new MagicUsageError(`\`%pool start\` takes one worker count, got \`${positional.join(" ")}\`: e.g. \`%pool start 2\`.`);
      let workers: number | undefined;
      if (positional.length === 1) {
        if (!/^[1-9][0-9]*$/.test(positional[0])) {
          throw new MagicUsageError(`\`%pool start ${positional[0]}\`: N must be a positive whole number of workers, e.g. \`%pool start 2\`.`);
        }
        workers = Number(positional[0]);
        if (workers > 256) throw new MagicUsageError(`\`%pool start ${workers}\`: at most 256 workers; this machine has far fewer cores.`);
      }
      return { kind: "pool-start", workers, threads: options.threads === true };
    }
    case "status": case "stop": case "restart": case "help":
      noArguments(`%pool ${spec.name}`, args);
      return { kind: `pool-${spec.name}` } as LineMagic;
    case "push": {
      const names = args.split(/[\s,]+/).filter((s) => s !== "");
      if (names.length === 0) throw new MagicUsageError("`%pool push` needs the names to copy to the workers, e.g. `%pool push data config`.");
      for (const n of names) {
        if (!isValidName(n)) throw new MagicUsageError(`\`%pool push\`: \`${n}\` is not a variable name; list names separated by spaces, e.g. \`%pool push data config\`.`);
      }
      return { kind: "pool-push", names: [...new Set(names)] };
    }
    case "pull": {
      const names = args.split(/\s+/).filter((s) => s !== "");
      if (names.length !== 1) throw new MagicUsageError("`%pool pull` takes exactly one name, e.g. `%pool pull counter`.");
      if (!isValidName(names[0])) throw new MagicUsageError(`\`%pool pull\`: \`${names[0]}\` is not a variable name, e.g. \`%pool pull counter\`.`);
      return { kind: "pool-pull", name: names[0] };
    }
  }
  throw subcommandError(sub, false, args);
}

function parsePoolCell(rest: string, body: string, lineOffset: number): CellMagic {
  const { sub, args } = splitSub(rest);
  const spec = POOL_SUBCOMMANDS.find((s) => s.cell && s.name === sub);
  if (!spec) throw subcommandError(sub, true, args);
  const form = `%%pool ${spec.name}`;
  if (spec.name === "map" || spec.name === "starmap") {
    const { expression, options } = parseOptions(args, spec, form, true);
    if (expression === "") {
      throw new MagicUsageError(`\`${form}\` needs an ITERABLE (a TypeScript expression) after it, e.g. \`${form} ${spec.example}\`.`);
    }
    requireBody(form, body, "the function to apply (e.g. `(x: number) => x * x`, or the name of a function from an earlier cell)");
    const opt: MapOptions = {
      unordered: options.unordered === true,
      timeline: options.timeline === true,
      chunksize: options.chunksize as number | undefined,
      out: options.out as string | undefined,
      retries: options.retries as number | undefined,
      timeout: options.timeout as number | undefined,
    };
    return { kind: "pool-map", star: spec.name === "starmap", iterable: expression, options: opt, body, lineOffset };
  }
  // run
  const { positional, options } = parseOptions(args, spec, form);
  if (positional.length > 0) {
    throw new MagicUsageError(`\`${form}\` takes only options on its line (got \`${clip(positional.join(" "))}\`): the code goes below, e.g. \`%%pool run --targets 0,1\`.`);
  }
  requireBody(form, body, "the code to run on each worker");
  return { kind: "pool-run", targets: options.targets as number[] | undefined, out: options.out as string | undefined, body, lineOffset };
}

type OptionValues = Record<string, number | string | boolean | number[]>;

/**
 * Splits the arguments of a `%pool` form into options and either whitespace-separated positional
 * words or (with `expression`) one TypeScript expression, which may contain spaces, brackets and
 * strings. Options may come before or after the expression.
 */
function parseOptions(args: string, spec: SubcommandSpec, form: string, expression = false):
  { positional: string[]; expression: string; options: OptionValues } {
  const misdashed = findMisdashedOptions(args, spec.options);
  if (misdashed.length) throw misdashedError(misdashed, spec, form, args);
  const scan = scanExpression(args);
  if (scan.problem && expression) {
    throw new MagicUsageError(`\`${form}\`: the ITERABLE \`${clip(args)}\` has an ${scan.problem.message} (at column ${scan.problem.index + 1}).`);
  }
  const starts = scan.problem ? findOptionsLoosely(args) : scan.optionStarts;
  const options: OptionValues = {};
  const positional: string[] = [];
  const expressionParts: string[] = [];
  let pos = 0;
  let optIdx = 0;
  while (pos < args.length) {
    while (pos < args.length && /\s/.test(args[pos])) pos++;
    if (pos >= args.length) break;
    if (optIdx < starts.length && starts[optIdx] === pos) {
      optIdx++;
      let end = pos;
      while (end < args.length && !/\s/.test(args[end])) end++;
      const word = args.slice(pos, end);
      pos = end;
      const eq = word.indexOf("=");
      const name = (eq >= 0 ? word.slice(2, eq) : word.slice(2));
      let value: string | undefined = eq >= 0 ? word.slice(eq + 1) : undefined;
      const opt = spec.options.find((o) => o.name === name);
      if (!opt) throw unknownOption(name, spec, form, args);
      if (opt.kind === "flag") {
        if (value !== undefined) throw new MagicUsageError(`\`${form}\`: \`--${name}\` is a flag and takes no value; write just \`--${name}\`.`);
        options[name] = true;
        continue;
      }
      if (value === undefined) {
        while (pos < args.length && /\s/.test(args[pos])) pos++;
        let vend = pos;
        while (vend < args.length && !/\s/.test(args[vend])) vend++;
        if (pos >= args.length || (optIdx < starts.length && starts[optIdx] === pos)) {
          throw new MagicUsageError(`\`${form}\`: \`--${name}\` needs a value, e.g. \`--${name} ${opt.example}\`.`);
        }
        value = args.slice(pos, vend);
        pos = vend;
      }
      if (name in options) throw new MagicUsageError(`\`${form}\`: \`--${name}\` is given twice; keep one.`);
      options[name] = convertOption(opt, value, form);
      continue;
    }
    const nextOpt = optIdx < starts.length ? starts[optIdx] : args.length;
    const chunk = args.slice(pos, nextOpt).trim();
    pos = nextOpt;
    if (expression) {
      if (expressionParts.length > 0) {
        throw new MagicUsageError(`\`${form}\`: the ITERABLE must be one expression, but \`${clip(expressionParts[0])}\` and \`${clip(chunk)}\` are separated by options; put the options after the expression.`);
      }
      expressionParts.push(chunk);
    } else {
      positional.push(...chunk.split(/\s+/).filter((s) => s !== ""));
    }
  }
  return { positional, expression: expressionParts[0] ?? "", options };
}

function findOptionsLoosely(args: string): number[] {
  const out: number[] = [];
  const re = /(^|\s)--[A-Za-z]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(args))) out.push(m.index + m[1].length);
  return out;
}

function unknownOption(name: string, spec: SubcommandSpec, form: string, args: string): MagicUsageError {
  const names = spec.options.map((o) => o.name);
  if (names.length === 0) return new MagicUsageError(`\`${form}\` takes no options (got \`--${name}\`).`);
  const guess = closest(name, names);
  if (guess) {
    const fixed = args.replace(new RegExp(`(^|\\s)--${escapeRegExp(name)}(?=[\\s=]|$)`), `$1--${guess}`);
    return new MagicUsageError(`\`${form}\` has no option \`--${name}\`: did you mean \`${form} ${fixed}\`?`);
  }
  return new MagicUsageError(`\`${form}\` has no option \`--${name}\`; its options are ${names.map((n) => "`--" + n + "`").join(", ")}.`);
}

/** An option written with one hyphen or a typographic dash: the `--` form, or the options it may mean. */
function misdashedError(found: MisdashedOption[], spec: SubcommandSpec, form: string, args: string): MagicUsageError {
  const first = found[0]!;
  const written = `${first.dashes}${first.word}`;
  const what = `\`${written}\` ${describeDashes(first.dashes)}`;
  const usage = (name: string) => {
    const o = spec.options.find((x) => x.name === name)!;
    return `\`--${name}${o.placeholder ? " " + o.placeholder : ""}\``;
  };
  if (first.meant.length > 1) {
    return new MagicUsageError(`\`${form}\`: ${what}, and \`${written}\` could be ${first.meant.map(usage).join(" or ")}: write the one you mean in full.`);
  }
  if (first.meant.length === 0) {
    return new MagicUsageError(`\`${form}\`: ${what}, and there is no option \`--${first.word}\` either; the options are ${spec.options.map((o) => usage(o.name)).join(", ")}.`);
  }
  // Every mistaken option that means one option, put right.
  let fixed = args;
  for (const f of [...found].reverse()) {
    if (f.meant.length === 1) fixed = fixed.slice(0, f.index) + `--${f.meant[0]}` + fixed.slice(f.index + f.dashes.length + f.word.length);
  }
  return new MagicUsageError(`\`${form}\`: ${what}: did you mean \`${form} ${fixed}\`?`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function convertOption(opt: OptionSpec, value: string, form: string): number | string | number[] {
  const bad = (what: string) =>
    new MagicUsageError(`\`${form}\`: \`--${opt.name} ${value}\`: ${what}, e.g. \`--${opt.name} ${opt.example}\`.`);
  switch (opt.kind) {
    case "count": {
      const min = opt.name === "retries" ? 0 : 1;
      if (!/^[0-9]+$/.test(value) || Number(value) < min) throw bad(min === 0 ? "needs a whole number (0 or more)" : "needs a positive whole number");
      return Number(value);
    }
    case "ms": {
      if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || Number(value) <= 0) throw bad("needs a positive number of milliseconds");
      return Number(value);
    }
    case "name": {
      const problem = outNameProblem(value);
      if (problem) throw new MagicUsageError(`\`${form}\`: \`--${opt.name} ${value}\`: ${problem}.`);
      return value;
    }
    case "targets": {
      const parts = value.replace(/^\[|\]$/g, "").split(",").filter((s) => s !== "");
      if (parts.length === 0 || parts.some((p) => !/^[0-9]+$/.test(p))) throw bad("needs worker ids separated by commas, without spaces");
      return [...new Set(parts.map(Number))];
    }
    default:
      return value;
  }
}
