/** The texts of `%pool help` and `%lsmagic`, generated from the grammar in forms.ts. */
import { MAGICS, POOL_SUBCOMMANDS } from "./forms.js";

export function poolHelpText(): string {
  const lines: string[] = [];
  lines.push("The notebook's worker pool. Line magics (one per line):");
  for (const s of POOL_SUBCOMMANDS.filter((x) => !x.cell)) {
    lines.push(`  %pool ${s.name}${s.usage ? " " + s.usage : ""}`);
    lines.push(`      ${s.help}`);
  }
  lines.push("");
  lines.push("Cell magics (the magic is the first line; the rest of the cell is TypeScript):");
  for (const s of POOL_SUBCOMMANDS.filter((x) => x.cell)) {
    lines.push(`  %%pool ${s.name}${s.usage ? " " + s.usage : ""}`);
    lines.push(`      ${s.help}`);
    for (const o of s.options) lines.push(`      --${o.name}${o.placeholder ? " " + o.placeholder : ""}: ${o.help}`);
  }
  lines.push("");
  lines.push("The body of %%pool map/starmap evaluates to the function to apply: an arrow or function");
  lines.push("expression, the name of a function from an earlier cell, or code whose last statement");
  lines.push("declares a function. ITERABLE is a TypeScript expression evaluated in the kernel.");
  lines.push("What the function uses from earlier cells travels to the workers by itself: data as a");
  lines.push("snapshot, functions and classes as source, imports re-imported in the worker.");
  lines.push("");
  lines.push("In cells, `pool` is the same pool as an object: await pool.map((x: number) => f(x), xs),");
  lines.push("pool.imap, pool.starmap, pool.apply, pool.run, ...");
  return lines.join("\n");
}

export function lsmagicText(): string {
  const line = MAGICS.filter((m) => m.line).map((m) => `%${m.name}`);
  const cell = MAGICS.filter((m) => m.cell).map((m) => `%%${m.name}`);
  const lines = [`Available line magics:`, `  ${line.join("  ")}`, ``, `Available cell magics:`, `  ${cell.join("  ")}`, ``];
  for (const m of MAGICS) {
    const forms = [m.line ? `%${m.name}${m.lineUsage ? " " + m.lineUsage : ""}` : "", m.cell ? `%%${m.name}${m.cellUsage ? " " + m.cellUsage : ""}` : ""]
      .filter((s) => s !== "" && m.name !== "pool");
    lines.push(`  ${m.name === "pool" ? "%pool / %%pool" : forms.join(" / ")}: ${m.help}`);
  }
  return lines.join("\n");
}
