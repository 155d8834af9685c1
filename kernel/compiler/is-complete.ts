/**
 * is_complete: whether the console should run the code now or continue it on a new line.
 * "incomplete" (with an indent) for unclosed brackets, strings, templates, comments or a
 * statement cut off at the end; "invalid" for syntax that no further line can fix (a closing
 * bracket without its opener); otherwise "complete". A `%%` cell magic is incomplete until it has
 * a body, then judged by its body; a `%` line magic is complete.
 */
import ts from "./typescript.cjs";
import type { IsCompleteReplyContent } from "../executor/protocol.js";

const OPENERS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.OpenBraceToken]: "{",
  [ts.SyntaxKind.OpenBracketToken]: "[",
  [ts.SyntaxKind.OpenParenToken]: "(",
};
const CLOSERS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.CloseBraceToken]: "{",
  [ts.SyntaxKind.CloseBracketToken]: "[",
  [ts.SyntaxKind.CloseParenToken]: "(",
};
/** Tokens after which a `/` is division, not the start of a regular expression. */
const ENDS_EXPRESSION = new Set([
  ts.SyntaxKind.Identifier, ts.SyntaxKind.NumericLiteral, ts.SyntaxKind.BigIntLiteral, ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.CloseParenToken, ts.SyntaxKind.CloseBracketToken, ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral, ts.SyntaxKind.TemplateTail, ts.SyntaxKind.ThisKeyword,
  ts.SyntaxKind.RegularExpressionLiteral, ts.SyntaxKind.PlusPlusToken, ts.SyntaxKind.MinusMinusToken,
]);

function indentOf(code: string, deeper: boolean): string {
  const lines = code.split("\n");
  let last = "";
  for (let i = lines.length - 1; i >= 0; i--)
    if (lines[i]!.trim()) {
      last = lines[i]!;
      break;
    }
  const base = /^\s*/.exec(last)![0];
  return deeper ? base + "  " : base;
}

export function isComplete(code: string): IsCompleteReplyContent {
  if (!code.trim()) return { status: "complete" };
  if (/^\s*%%/.test(code)) {
    // A cell magic needs a body; the body is TypeScript as far as brackets and strings go.
    const body = code.replace(/^\s*%%[^\n]*\n?/, "");
    if (!body.trim()) return { status: "incomplete", indent: "" };
    const inner = isCompleteCode(body);
    return inner.status === "incomplete" ? inner : { status: "complete" };
  }
  if (/^\s*%/.test(code)) return { status: "complete" };
  return isCompleteCode(code);
}

function isCompleteCode(code: string): IsCompleteReplyContent {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code);
  const stack: string[] = [];
  let prev = ts.SyntaxKind.Unknown;
  let lastSignificant = ts.SyntaxKind.Unknown;
  for (;;) {
    let kind = scanner.scan();
    if (kind === ts.SyntaxKind.EndOfFileToken) break;
    if ((kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) && !ENDS_EXPRESSION.has(prev))
      kind = scanner.reScanSlashToken();
    if (kind === ts.SyntaxKind.CloseBraceToken && stack[stack.length - 1] === "${") {
      kind = scanner.reScanTemplateToken(false);
      if (kind === ts.SyntaxKind.TemplateTail) stack.pop();
    }
    if (scanner.isUnterminated()) {
      if (kind === ts.SyntaxKind.StringLiteral && !/\\\r?\n?$/.test(code)) return { status: "invalid" };
      return { status: "incomplete", indent: "" };
    }
    const open = OPENERS[kind];
    if (open) stack.push(open);
    else if (kind === ts.SyntaxKind.TemplateHead) stack.push("${");
    else {
      const close = CLOSERS[kind];
      if (close) {
        if (stack[stack.length - 1] !== close) return { status: "invalid" };
        stack.pop();
      }
    }
    prev = kind;
    lastSignificant = kind;
  }
  if (stack.length) return { status: "incomplete", indent: indentOf(code, true) };
  const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const diags = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (diags.length === 0) return { status: "complete" };
  const end = code.trimEnd().length;
  if (diags.every((d) => (d.start ?? 0) >= end)) return { status: "incomplete", indent: indentOf(code, true) };
  return { status: "invalid" };
}
