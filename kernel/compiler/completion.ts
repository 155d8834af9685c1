/**
 * Completion at the cursor, from the TypeScript language service over the cell as the next
 * virtual module: members after `.`, locals, names of earlier cells, globals, imports, keywords
 * (in a `%%` cell magic, within its TypeScript body).
 */
import ts from "typescript";
import type { CompleteReplyContent } from "../executor/protocol.js";
import { withScratchCell, type ScratchHost } from "./scratch.js";
import { typeScriptRegion } from "./magic-region.js";

const IDENT_CHAR = /[\p{ID_Continue}$\u200c\u200d]/u;

export function complete(host: ScratchHost, cellCode: string, cellCursor: number): CompleteReplyContent {
  const region = typeScriptRegion(cellCode, cellCursor);
  if (!region) return { matches: [], cursor_start: cellCursor, cursor_end: cellCursor, metadata: {} };
  const reply = completeTypeScript(host, region.code, region.cursor);
  return { ...reply, cursor_start: reply.cursor_start + region.offset, cursor_end: reply.cursor_end + region.offset };
}

function completeTypeScript(host: ScratchHost, code: string, cursor: number): CompleteReplyContent {
  let start = cursor;
  while (start > 0 && IDENT_CHAR.test(code[start - 1]!)) start--;
  const prefix = code.slice(start, cursor);
  const entries = withScratchCell(
    host,
    code,
    (file) =>
      host.checker.languageService.getCompletionsAtPosition(file.fileName, file.headerLength + cursor, {
        includeCompletionsForModuleExports: false,
        includeCompletionsWithInsertText: true,
      }),
    prefix,
  );
  const lower = prefix.toLowerCase();
  const seen = new Set<string>();
  const matches = (entries?.entries ?? [])
    .filter((e) => !e.name.startsWith("__tspool_") && !e.name.startsWith("__cell_") && e.name.toLowerCase().startsWith(lower))
    .sort((a, b) => {
      const exactA = a.name.startsWith(prefix) ? 0 : 1;
      const exactB = b.name.startsWith(prefix) ? 0 : 1;
      return exactA - exactB || a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name);
    })
    .filter((e) => !seen.has(e.name) && seen.add(e.name));
  // Names the type checker cannot know: globals set at run time (e.g. `globalThis.x = ...`), and
  // members of values whose static type is `any`.
  const names = matches.map((e) => e.name);
  // Reading a member chain may run getters: only when the type checker had nothing to offer.
  const memberAccess = /\.\s*$/.test(code.slice(0, start));
  const extras = memberAccess && names.length ? [] : runtimeNames(code.slice(0, start), prefix);
  for (const extra of extras) if (!seen.has(extra)) {
    seen.add(extra);
    names.push(extra);
  }
  return {
    matches: names,
    cursor_start: start,
    cursor_end: cursor,
    // Kinds for frontends that show them (JupyterLab), one per match in order; without start/end,
    // which would be UTF-16 offsets here while the wire speaks code points.
    metadata: {
      _jupyter_types_experimental: names.map((name, i) => ({ text: name, type: i < matches.length ? kindName(matches[i]!.kind) : "variable" })),
    },
  };
}

function kindName(kind: ts.ScriptElementKind): string {
  switch (kind) {
    case ts.ScriptElementKind.memberFunctionElement:
    case ts.ScriptElementKind.functionElement:
    case ts.ScriptElementKind.localFunctionElement:
      return "function";
    case ts.ScriptElementKind.classElement:
      return "class";
    case ts.ScriptElementKind.keyword:
      return "keyword";
    case ts.ScriptElementKind.moduleElement:
    case ts.ScriptElementKind.alias:
      return "module";
    case ts.ScriptElementKind.interfaceElement:
    case ts.ScriptElementKind.typeElement:
      return "type";
    case ts.ScriptElementKind.memberVariableElement:
    case ts.ScriptElementKind.memberGetAccessorElement:
      return "property";
    default:
      return "variable";
  }
}

/**
 * Completions from the live session: after `a.b.` the own and inherited property names of that
 * value (only for plain dotted names, read without calling anything but getters), otherwise the
 * global scope's names.
 */
function runtimeNames(before: string, prefix: string): string[] {
  const chain = /((?:[\p{ID_Start}$_][\p{ID_Continue}$]*\s*\.\s*)*)$/u.exec(before)?.[1] ?? "";
  let target: unknown = globalThis;
  if (chain) {
    for (const part of chain.split(".").map((p) => p.trim()).filter(Boolean)) {
      if (target === null || target === undefined) return [];
      try {
        target = (target as Record<string, unknown>)[part];
      } catch {
        return [];
      }
    }
    if (target === null || target === undefined) return [];
  }
  const out = new Set<string>();
  for (let o: unknown = Object(target); o && (chain || o === globalThis); o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name.startsWith(prefix) && /^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(name) && !name.startsWith("__tspool")) out.add(name);
    }
    if (o === Object.prototype) break;
  }
  return [...out].sort();
}
