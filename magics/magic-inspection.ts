/**
 * Inspection (Shift+Tab) of magic syntax on a magic's own line: the usage and help of the magic,
 * or of the `%pool` subcommand with its options, from the grammar in forms.ts.
 */
import type { InspectReplyContent } from "../kernel/executor/protocol.js";
import { MAGICS, POOL_SUBCOMMANDS } from "./forms.js";
import { poolHelpText } from "./help.js";

/** Help for the magic whose first line the cursor is on (outside its TypeScript), else undefined. */
export function inspectMagicSyntax(code: string, cursor: number): InspectReplyContent | undefined {
  const lead = /^\s*/.exec(code)![0].length;
  if (code[lead] !== "%") return undefined;
  const lineEnd = code.indexOf("\n", lead);
  if (lineEnd >= 0 && cursor > lineEnd) return undefined;
  const line = code.slice(lead, lineEnd < 0 ? code.length : lineEnd);
  const head = /^(%%?)([\w-]+)(?:\s+([\w-]+))?/.exec(line);
  if (!head) return undefined;
  const [, sigil, name, sub] = head;
  // Only the magic's own words (`%%pool map`, `%time`): past them (an ITERABLE, a statement) the
  // TypeScript inspector answers.
  const own = name === "pool" ? head[0].length : sigil!.length + name!.length;
  if (cursor - lead > own) return undefined;
  const cell = sigil === "%%";
  let text: string | undefined;
  if (name === "pool") {
    const spec = POOL_SUBCOMMANDS.find((s) => s.name === sub && s.cell === cell);
    if (spec) {
      text = [`${sigil}pool ${spec.name}${spec.usage ? " " + spec.usage : ""}`, "", spec.help,
        ...spec.options.map((o) => `  --${o.name}${o.placeholder ? " " + o.placeholder : ""}: ${o.help}`)].join("\n");
    } else {
      text = poolHelpText();
    }
  } else {
    const m = MAGICS.find((x) => x.name === name && (cell ? x.cell : x.line));
    if (m) text = `${sigil}${m.name}${(cell ? m.cellUsage : m.lineUsage) ? " " + (cell ? m.cellUsage : m.lineUsage) : ""}\n\n${m.help}`;
  }
  if (text === undefined) return undefined;
  return { found: true, data: { "text/plain": text }, metadata: {} };
}
