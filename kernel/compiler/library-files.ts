/**
 * The declaration files every program of the checker includes — the default libraries named by
 * `lib` and the packages named by `types` — found by following their `/// <reference>` lines.
 * Used to parse them one at a time during warm-up (a file the list misses is simply parsed
 * later, with the program).
 */
import ts from "./typescript.cjs";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const REFERENCE = /^\/\/\/\s*<reference\s+(lib|path|types)\s*=\s*["']([^"']+)["']/gm;

export function libraryFiles(options: ts.CompilerOptions): string[] {
  const libDir = dirname(ts.getDefaultLibFilePath(options));
  const found = new Set<string>();
  const pending: string[] = [];
  const add = (file: string | undefined) => {
    if (file && !found.has(file) && existsSync(file)) {
      found.add(file);
      pending.push(file);
    }
  };
  for (const lib of options.lib ?? []) add(join(libDir, lib));
  for (const name of options.types ?? []) for (const root of options.typeRoots ?? []) add(join(root, name, "index.d.ts"));
  while (pending.length) {
    const file = pending.shift()!;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(REFERENCE)) {
      const [, kind, target] = m;
      if (kind === "lib") add(join(libDir, `lib.${target!.toLowerCase()}.d.ts`));
      else if (kind === "path") add(resolve(dirname(file), target!));
      else for (const root of options.typeRoots ?? []) add(join(root, target!, "index.d.ts"));
    }
  }
  return [...found];
}
