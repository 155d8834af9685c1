/**
 * Tab completion of magic syntax on a magic's own line: magic names (`%ti` → `%time`, `%timeit`),
 * `%pool` subcommands (`%pool st` → start, status, stop) and their options (`--ch` → --chunksize),
 * from the grammar in forms.ts. TypeScript on that line (the ITERABLE of `%%pool map`, the
 * statement of `%time`) is completed by the TypeScript completer instead (see magic-region.ts).
 */
import type { CompleteReplyContent } from "../kernel/executor/protocol.js";
import { MAGICS, POOL_SUBCOMMANDS, type OptionSpec } from "./forms.js";

interface Candidate { text: string; signature: string }

function reply(candidates: Candidate[], prefix: string, start: number, end: number): CompleteReplyContent {
  const found = candidates.filter((c) => c.text.startsWith(prefix));
  return {
    matches: found.map((c) => c.text),
    cursor_start: start,
    cursor_end: end,
    metadata: { _jupyter_types_experimental: found.map((c) => ({ start, end, text: c.text, type: "magic", signature: c.signature })) },
  };
}

/**
 * Completions for the magic syntax around `cursor`, or undefined when the cursor is not on a
 * magic's first line or sits in its TypeScript part (or past the point where words are magic syntax).
 * `values`: the session's bindings, offered after `%pool push`.
 */
export function completeMagicSyntax(
  code: string, cursor: number, values?: () => { name: string; kind: string }[],
): CompleteReplyContent | undefined {
  const lead = /^\s*/.exec(code)![0].length;
  if (code[lead] !== "%") return undefined;
  const lineEnd = code.indexOf("\n", lead);
  if (lineEnd >= 0 && cursor > lineEnd) return undefined;
  const line = code.slice(lead, cursor);
  const cell = line.startsWith("%%");
  const sigil = cell ? "%%" : "%";

  // The magic's name.
  const name = /^%%?([\w-]*)$/.exec(line);
  if (name) {
    const names = MAGICS.filter((m) => (cell ? m.cell : m.line)).map((m) => ({
      text: sigil + m.name,
      signature: `${sigil}${m.name} — ${m.help}`,
    }));
    return reply(names, line, lead, cursor);
  }

  const pool = /^%%?pool\s+([\w-]*)$/.exec(line);
  if (pool) {
    const subs = POOL_SUBCOMMANDS.filter((s) => s.cell === cell).map((s) => ({
      text: s.name,
      signature: `${sigil}pool ${s.name}${s.usage ? " " + s.usage : ""} — ${s.help}`,
    }));
    return reply(subs, pool[1]!, cursor - pool[1]!.length, cursor);
  }

  // `%pool push NAME...`: the values earlier cells defined (`values`), each once.
  const push = /^%pool\s+push\b(.*?\s)([\w$]*)$/.exec(line);
  if (push && values) {
    const given = new Set(push[1]!.trim().split(/\s+/));
    const names = values().filter((v) => !given.has(v.name) && v.kind !== "type" && v.kind !== "interface")
      .map((v) => ({ text: v.name, signature: `${v.name} (${v.kind})` }));
    return reply(names, push[2]!, cursor - push[2]!.length, cursor);
  }

  // An option of a %pool subcommand: the word at the cursor starts with "-".
  const option = /^%%?pool\s+(\w+)\b(.*?)(-{1,2}[\w-]*)$/.exec(line);
  if (option && /(^|\s)$/.test(option[2]!)) {
    const spec = POOL_SUBCOMMANDS.find((s) => s.name === option[1] && s.cell === cell);
    if (!spec) return undefined;
    const given = new Set([...option[2]!.matchAll(/--([\w-]+)/g)].map((m) => m[1]));
    const options = spec.options.filter((o) => !given.has(o.name)).map((o: OptionSpec) => ({
      text: `--${o.name}`,
      signature: `--${o.name}${o.placeholder ? " " + o.placeholder : ""} — ${o.help}`,
    }));
    const word = option[3]!;
    return reply(options, word, cursor - word.length, cursor);
  }
  return undefined;
}
