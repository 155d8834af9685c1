/** Inspection (shift-tab): the type signature of the name at the cursor and its JSDoc. */
import ts from "typescript";
import type { InspectReplyContent } from "../executor/protocol.js";
import { withScratchCell, type ScratchHost } from "./scratch.js";

export function inspect(host: ScratchHost, code: string, cursor: number, detailLevel: 0 | 1): InspectReplyContent {
  const info = withScratchCell(host, code, (file) => {
    const ls = host.checker.languageService;
    const at = file.headerLength + cursor;
    return ls.getQuickInfoAtPosition(file.fileName, at) ?? (cursor > 0 ? ls.getQuickInfoAtPosition(file.fileName, at - 1) : undefined);
  });
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
