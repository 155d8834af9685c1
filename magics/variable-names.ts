/**
 * Which names the magics accept where they take a variable name (`--out NAME`, `%pool push NAME`,
 * `%pool pull NAME`), and, for a name `--out` cannot take, why not and what to write instead.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Reserved words of JavaScript and TypeScript (strict mode): they cannot name a variable. */
const RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "let",
  "static", "yield", "await", "implements", "interface", "package", "private", "protected", "public",
]);

/** Names strict-mode code may not declare, and values of the language no declaration may replace. */
const UNDECLARABLE = new Set(["eval", "arguments", "undefined", "NaN", "Infinity", "globalThis"]);

/** What the kernel itself gives every cell (kernel/executor/cell-globals.ts), and what each is. */
const KERNEL_GLOBALS: Record<string, string> = {
  _: "holds the value of the last cell that had one",
  pool: "is the notebook's worker pool (the `pool` the cells and the `%pool` magics use)",
  display: "is the kernel's function that shows rich output",
  clearOutput: "is the kernel's function that clears a cell's output",
  input: "is the kernel's function that asks the user for text",
  require: "is the cells' `require`",
  __filename: "is the notebook's file name",
  __dirname: "is the notebook's directory",
};

/** The prefix of the names tspool itself uses in the session. */
const OWN_PREFIX = "__tspool";

export function isValidName(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name);
}

const INSTEAD = "use another name, e.g. `--out results`";

/**
 * Why `--out NAME` cannot bind `name`, or undefined when it can as far as the name alone tells
 * (see shadowedGlobal for what only the running kernel knows).
 */
export function outNameProblem(name: string): string | undefined {
  if (!IDENTIFIER.test(name)) return `needs a variable name (letters, digits, _ and $, not starting with a digit), which \`${name}\` is not; ${INSTEAD}`;
  if (RESERVED.has(name)) return `\`${name}\` is a reserved word of TypeScript and cannot name a variable; ${INSTEAD}`;
  if (name === "_") {
    return "`_` always holds the value of the last cell that had one (this cell's results are in `_` already), so `--out` cannot take it over; to keep the results under a name of their own, use e.g. `--out results`";
  }
  const kernel = KERNEL_GLOBALS[name];
  if (kernel) return `\`${name}\` ${kernel}; binding the results to it would replace it for every later cell; ${INSTEAD}`;
  if (UNDECLARABLE.has(name)) return `\`${name}\` is built into JavaScript and cannot be declared again; ${INSTEAD}`;
  if (name.startsWith(OWN_PREFIX)) return `names starting with \`${OWN_PREFIX}\` are tspool's own; ${INSTEAD}`;
  return undefined;
}

/**
 * Why `--out NAME` cannot bind `name` in the running kernel: it is a global no cell declared
 * (a JavaScript or Node built-in such as `Math` or `console`, or something set through
 * `globalThis`), which a binding of that name would hide from every later cell.
 */
export function shadowedGlobal(name: string, declaredByCells: (name: string) => boolean): string | undefined {
  if (declaredByCells(name) || !(name in globalThis)) return undefined;
  return `\`${name}\` is already a global of the kernel that no cell declared (a JavaScript or Node built-in, or set through globalThis); binding the results to it would hide it from every later cell; ${INSTEAD}`;
}
