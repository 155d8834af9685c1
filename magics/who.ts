/** `%who`: the names earlier cells defined, grouped by kind, hidden helper names left out. */
import type { MagicSession } from "./session-api.js";

const ORDER = ["const", "let", "var", "function", "class", "enum", "namespace", "import", "type", "interface"];

export function whoText(session: MagicSession): string {
  const bindings = session.bindings.all().filter((b) => !b.name.startsWith("__tspool"));
  if (bindings.length === 0) return "No names defined yet.";
  const byKind = new Map<string, string[]>();
  for (const b of bindings) {
    const list = byKind.get(b.kind) ?? [];
    list.push(b.name);
    byKind.set(b.kind, list);
  }
  const kinds = [...byKind.keys()].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const width = Math.max(...kinds.map((k) => k.length)) + 1;
  return kinds.map((k) => `${(k + ":").padEnd(width)} ${byKind.get(k)!.sort().join("  ")}`).join("\n");
}
