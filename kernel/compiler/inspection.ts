/** Inspection (shift-tab): the type signature of the name at the cursor and its JSDoc. */
import ts from "./typescript.cjs";
import type { InspectReplyContent } from "../executor/protocol.js";
import { withScratchCell, type ScratchHost } from "./scratch.js";
import { typeScriptRegion } from "./magic-region.js";

export function inspect(host: ScratchHost, cellCode: string, cellCursor: number, detailLevel: 0 | 1): InspectReplyContent {
  const region = typeScriptRegion(cellCode, cellCursor);
  if (!region) return { found: false, data: {}, metadata: {} };
  const { code, cursor } = region;
  const info = withScratchCell(host, code, (file, position) => {
    const ls = host.checker.languageService;
    let at = position(cursor);
    let info = ls.getQuickInfoAtPosition(file.fileName, at);
    if (!info && cursor > 0) info = ls.getQuickInfoAtPosition(file.fileName, (at = position(cursor - 1)));
    // Names of earlier cells reach this cell as imports: show what they are, not "(alias) ... import x".
    if (info?.kind === ts.ScriptElementKind.alias) {
      const def = ls.getDefinitionAtPosition(file.fileName, at)?.[0];
      const target = def && ls.getQuickInfoAtPosition(def.fileName, def.textSpan.start);
      if (target && target.kind !== ts.ScriptElementKind.alias)
        info = { ...target, documentation: target.documentation?.length ? target.documentation : info.documentation, tags: target.tags?.length ? target.tags : info.tags };
    }
    return info;
  }, undefined, region.typing);
  if (!info) return { found: false, data: {}, metadata: {} };
  const signature = ts.displayPartsToString(info.displayParts);
  const docs = ts.displayPartsToString(info.documentation);
  const tags = (info.tags ?? []).map((t) => `@${t.name}${t.text ? ` ${ts.displayPartsToString(t.text)}` : ""}`);
  const docText = [docs, ...(detailLevel > 0 || tags.length <= 4 ? tags : [])].filter(Boolean).join("\n");
  return {
    found: true,
    data: {
      "text/plain": docText ? `${signature}\n\n${docText}` : signature,
      "text/markdown": "```typescript\n" + signature + "\n```" + (docText ? `\n\n${docText}` : ""),
    },
    metadata: {},
  };
}
