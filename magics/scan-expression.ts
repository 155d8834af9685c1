/**
 * A small lexical scanner for the TypeScript expressions that magic lines carry (the ITERABLE of
 * `%%pool map`): it finds where `--option` words start at the top level, that is outside strings,
 * template literals, regular expressions, comments and brackets, so that `xs.filter(s => s !== "--x")`
 * or `[a --b]` are never cut into options. It also reports unbalanced brackets and unclosed strings.
 */

export interface ScanResult {
  /** Indices where a top-level `--name` option starts (preceded by whitespace or at the start). */
  optionStarts: number[];
  /** A lexical problem found, with its position. */
  problem?: { message: string; index: number };
}

const CLOSER: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
// After one of these, a `/` starts a regular expression rather than a division.
const REGEX_PREFIX = new Set(["", "(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*", "%", "<", ">", "~", "^"]);
const REGEX_KEYWORDS = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

export function scanExpression(text: string): ScanResult {
  const optionStarts: number[] = [];
  // Stack of open brackets; a template literal's `${` pushes "${" so its `}` resumes the template.
  const stack: string[] = [];
  let prevSignificant = ""; // last non-space character outside strings/comments
  let prevWord = "";
  let i = 0;
  const n = text.length;

  const fail = (message: string, index: number): ScanResult => ({ optionStarts, problem: { message, index } });

  // Scans a template literal body starting after the backtick (or after the `}` closing a `${`).
  // Returns the index after the closing backtick, or the index after a `${` (with "${" pushed).
  const scanTemplate = (from: number): number | ScanResult => {
    let j = from;
    while (j < n) {
      const c = text[j];
      if (c === "\\") { j += 2; continue; }
      if (c === "`") return j + 1;
      if (c === "$" && text[j + 1] === "{") { stack.push("${"); return j + 2; }
      j++;
    }
    return fail("unclosed template literal", from - 1);
  };

  while (i < n) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") { i++; continue; }
    // Comments
    if (c === "/" && text[i + 1] === "/") break; // rest of the line is a comment
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return fail("unclosed /* comment", i);
      i = end + 2;
      continue;
    }
    // Options: `--name` at top level, at the start or after whitespace.
    if (c === "-" && text[i + 1] === "-" && /[A-Za-z]/.test(text[i + 2] ?? "") && stack.length === 0 &&
        (i === 0 || /\s/.test(text[i - 1]))) {
      optionStarts.push(i);
      // Skip the option word; its value (if any) is scanned as ordinary text.
      i += 2;
      while (i < n && !/\s/.test(text[i])) i++;
      prevSignificant = "";
      prevWord = "";
      continue;
    }
    // Strings
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c) {
        if (text[j] === "\\") j++;
        j++;
      }
      if (j >= n) return fail(`unclosed string starting with ${c}`, i);
      i = j + 1;
      prevSignificant = c;
      prevWord = "";
      continue;
    }
    if (c === "`") {
      const r = scanTemplate(i + 1);
      if (typeof r !== "number") return r;
      i = r;
      prevSignificant = "`";
      prevWord = "";
      continue;
    }
    // Regular expression literal
    if (c === "/" && (REGEX_PREFIX.has(prevSignificant) || REGEX_KEYWORDS.has(prevWord))) {
      let j = i + 1;
      let inClass = false;
      while (j < n) {
        const d = text[j];
        if (d === "\\") { j += 2; continue; }
        if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      if (j >= n) return fail("unclosed regular expression", i);
      j++;
      while (j < n && /[a-z]/i.test(text[j])) j++; // flags
      i = j;
      prevSignificant = "/";
      prevWord = "";
      continue;
    }
    // Brackets
    if (c === "(" || c === "[" || c === "{") {
      stack.push(c);
      prevSignificant = c;
      prevWord = "";
      i++;
      continue;
    }
    if (c === ")" || c === "]" || c === "}") {
      const open = stack.pop();
      if (open === "${" && c === "}") {
        const r = scanTemplate(i + 1);
        if (typeof r !== "number") return r;
        i = r;
        prevSignificant = "`";
        prevWord = "";
        continue;
      }
      if (open === undefined) return fail(`unmatched ${c}`, i);
      if (CLOSER[open] !== c) return fail(`${open} closed by ${c}`, i);
      prevSignificant = c;
      prevWord = "";
      i++;
      continue;
    }
    // Identifiers / numbers / other punctuation
    if (/[A-Za-z0-9_$]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$]/.test(text[j])) j++;
      prevWord = text.slice(i, j);
      prevSignificant = "a"; // an operand: a following `/` divides
      i = j;
      continue;
    }
    prevSignificant = c;
    prevWord = "";
    i++;
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    return fail(open === "${" ? "unclosed ${ in a template literal" : `unclosed ${open}`, n);
  }
  return { optionStarts };
}
