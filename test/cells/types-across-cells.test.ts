/**
 * Cross-cell type checking through the real kernel: what earlier cells declare (values,
 * functions, classes, interfaces, types, enums, imports) types later cells, the newest
 * definition wins, and a cell that fails to type-check reports line:column and does not run.
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";

const s = useKernel();
const { ok } = s;

async function typeError(code: string) {
  const error = await s.fails(code);
  expect(error.ename).toBe("TSError");
  return error;
}

describe("a cell that throws part-way", () => {
  it("keeps, for later cells' types too, what it got to before the exception; what it did not reach keeps its earlier definition", async () => {
    await ok("const untouched: string = 'earlier';\nlet retyped: string = 'earlier';");
    const r = await s.kernel.client.execute(
      "interface Reached { w: number }\nconst early = 41;\nlet retyped: number = 5;\n" +
      "function afterwards(): number { return early + 1; }\nclass Made { v = early }\n" +
      "if (early) throw new Error('part-way');\nconst untouched: number = 7;\nconst late = 1;",
    );
    expect(r.error!.ename).toBe("Error");
    expect(r.error!.evalue).toBe("part-way");
    // Reached: an interface, values, a re-typed let, a hoisted function and a class.
    const used = await ok("const s: Reached = { w: early };\n[s.w, afterwards(), new Made().v, retyped + 1]");
    expect(used.result!.data["text/plain"]).toBe("[ 41, 42, 41, 6 ]");
    // Not reached: the earlier definition stands, for the checker and at run time...
    expect((await ok("untouched.toUpperCase()")).result!.data["text/plain"]).toBe("'EARLIER'");
    // ...and a name that only the unreached part declared is unknown, as at run time.
    const err = await typeError("late + 1");
    expect(err.evalue).toContain("Cannot find name 'late'");
  });
});

describe("types flow from earlier cells", () => {
  it("types a value declared earlier and rejects a wrong use of it", async () => {
    await ok("const total: number = 40;");
    expect((await ok("total + 2")).result!.data["text/plain"]).toBe("42");
    const err = await typeError("const label: string = total;");
    expect(err.evalue).toContain("Type 'number' is not assignable to type 'string'");
  });

  it("types functions, classes, interfaces, type aliases and enums across cells", async () => {
    await ok("interface Point { x: number; y: number }\ntype Pair = [Point, Point];");
    await ok("function dist(p: Point, q: Point): number { return Math.hypot(p.x - q.x, p.y - q.y); }");
    await ok("class Segment { constructor(readonly ends: Pair) {} length() { return dist(...this.ends); } }");
    await ok("enum Color { Red = 'red', Green = 'green' }");
    const r = await ok("const seg = new Segment([{ x: 0, y: 0 }, { x: 3, y: 4 }]);\n`${seg.length()} ${Color.Green}`");
    expect(r.result!.data["text/plain"]).toBe("'5 green'");
    const err = await typeError("dist({ x: 1 }, { x: 2, y: 2 })");
    expect(err.evalue).toMatch(/Property 'y' is missing/);
    const err2 = await typeError("const c: Color = 'blue';");
    expect(err2.evalue).toContain("not assignable");
  });

  it("types names imported by an earlier cell", async () => {
    await ok('import { basename } from "node:path";');
    expect((await ok('basename("/a/b/c.txt")')).result!.data["text/plain"]).toBe("'c.txt'");
    expect((await typeError("basename(42)")).evalue).toContain("not assignable to parameter of type 'string'");
  });
});

describe("redefinition", () => {
  it("lets a re-run cell redeclare const, function, class, interface and type, the newest winning", async () => {
    await ok("const answer: number = 1;");
    await ok("const answer: string = 'one';");
    expect((await ok("answer.toUpperCase()")).result!.data["text/plain"]).toBe("'ONE'");
    await typeError("answer.toFixed(2)");

    await ok("function shape(): number { return 1; }");
    await ok("function shape(): string { return 'square'; }");
    expect((await ok("shape().length")).result!.data["text/plain"]).toBe("6");

    await ok("interface Box { w: number }");
    await ok("interface Box { label: string }");
    await ok("const b: Box = { label: 'x' };");
    await typeError("const b2: Box = { w: 1 };");

    await ok("class Thing { a = 1 }");
    await ok("class Thing { b = 2 }");
    expect((await ok("new Thing()")).result!.data["text/plain"]).toBe("Thing { b: 2 }");
  });

  it("allows assigning to an earlier let, but not to an earlier const", async () => {
    await ok("let counter = 0;");
    await ok("counter += 5;");
    expect((await ok("counter")).result!.data["text/plain"]).toBe("5");
    await ok("const fixed = 1;");
    const err = await typeError("fixed = 2;");
    expect(err.evalue).toMatch(/Cannot assign to 'fixed' because it is a const \(declared in cell \[\d+\]\)/);
  });
});

describe("assignments to an earlier cell's let and var", () => {
  it("are checked against the variable's declared or inferred type, with the cell's line:column", async () => {
    await ok("let n = 1;\nlet cfg: { port: number } = { port: 1 };\nlet maybe: string | undefined = undefined;\nvar hits: number[] = [];");
    const plain = await typeError('const ok = true;\nn = "str";');
    expect(plain.evalue).toBe("2:1 Type 'string' is not assignable to type 'number'.");
    expect(plain.traceback.join("\n")).toContain("cell line 2:1 - error TS2322");
    expect((await typeError('cfg = { port: "80" };')).evalue).toBe("1:9 Type 'string' is not assignable to type 'number'.");
    expect((await typeError("maybe = 5;")).evalue).toContain("Type 'number' is not assignable to type 'string'");
    expect((await typeError('hits = ["x"];')).evalue).toContain("Type 'string' is not assignable to type 'number'");
    // The variable kept its type and its value: the refused cells did not run.
    expect((await ok("n.toFixed(1)")).result!.data["text/plain"]).toBe("'1.0'");
  });

  it("checks compound assignments, ++/--, destructuring and for-of/for-in targets", async () => {
    await ok('let count = 1;\nlet word = "w";\nconst table = { a: 1 };');
    expect((await typeError('count += "x";')).evalue).toContain("Type 'string' is not assignable to type 'number'");
    expect((await typeError("word++;")).evalue).toContain("An arithmetic operand must be of type 'any', 'number', 'bigint' or an enum type");
    expect((await typeError('[count] = ["arr"];')).evalue).toBe("1:2 Type 'string' is not assignable to type 'number'.");
    expect((await typeError('({ word } = { word: 5 });')).evalue).toContain("Type 'number' is not assignable to type 'string'");
    expect((await typeError('for (count of ["a", "b"]) {}')).evalue).toBe("1:6 Type 'string' is not assignable to type 'number'.");
    expect((await typeError("for (count in table) {}")).evalue).toContain("The left-hand side of a 'for...in' statement must be of type 'string' or 'any'");
    // Assignments that fit the type run, and later cells see the new values with the same type.
    await ok('count += 2;\ncount++;\n[word] = ["v"];\nfor (word in table) {}\nfor (count of [7, 8]) {}');
    expect((await ok("`${count.toFixed(0)} ${word.toUpperCase()}`")).result!.data["text/plain"]).toBe("'8 A'");
  });

  it("narrows an assigned variable within the cell as for a variable of the same file", async () => {
    await ok("let label: string | undefined = undefined;");
    expect((await ok('label = "set";\nlabel.length')).result!.data["text/plain"]).toBe("3");
    expect((await typeError("label.length")).evalue).toContain("'label' is possibly 'undefined'");
  });

  it("still refuses assignments to an earlier const, function, class or import", async () => {
    await ok('const frozen = 1;\nfunction act() {}\nclass Kind {}\nimport { sep } from "node:path";');
    expect((await typeError("frozen++;")).evalue).toMatch(/^1:1 Cannot assign to 'frozen' because it is a const \(declared in cell \[\d+\]\)/);
    expect((await typeError("for (frozen of [2]) {}")).evalue).toMatch(/^1:6 Cannot assign to 'frozen' because it is a const/);
    expect((await typeError("act = () => {};")).evalue).toMatch(/Cannot assign to 'act' because it is a function \(declared in cell \[\d+\]\)/);
    expect((await typeError("Kind = class {};")).evalue).toMatch(/Cannot assign to 'Kind' because it is a class/);
    expect((await typeError('sep = "/";')).evalue).toMatch(/Cannot assign to 'sep' because it is an import \(declared in cell \[\d+\]\)/);
  });
});

describe("a let or var sharing its name with a type of its cell", () => {
  it("keeps the interface's meaning for later cells, and the variable assignable and checked", async () => {
    await ok("interface Settings { port: number }\nlet Settings: Settings = { port: 1 };");
    expect((await ok("const s2: Settings = { port: 2 };\ns2.port + Settings.port")).result!.data["text/plain"]).toBe("3");
    await ok("Settings = { port: 4 };");
    expect((await typeError("Settings = 5;")).evalue).toContain("Type 'number' is not assignable to type 'Settings'");
    expect((await typeError('const s3: Settings = { port: "80" };')).evalue).toContain("Type 'string' is not assignable to type 'number'");
    // A cell that used the type is itself a module later cells read types from.
    expect((await ok("const fromS2: number = s2.port;\nfromS2 + Settings.port")).result!.data["text/plain"]).toBe("6");
  });

  it("keeps a type alias's meaning (var), and generics with their constraints and defaults", async () => {
    await ok("type Temp = { c: number };\nvar Temp: Temp = { c: 1 };");
    expect((await ok("let t2: Temp = Temp;\nt2.c")).result!.data["text/plain"]).toBe("1");
    await ok('interface Box<T extends string = "a"> { v: T }\nlet Box: Box = { v: "a" };');
    expect((await ok('const bx: Box<"x"> = { v: "x" };\nconst bd: Box = Box;\nbx.v + bd.v')).result!.data["text/plain"]).toBe("'xa'");
    expect((await typeError("const bn: Box<1> = { v: 1 };")).evalue).toContain("Type 'number' does not satisfy the constraint 'string'");
    expect((await typeError('const bw: Box = { v: "b" };')).evalue).toContain(`Type '"b"' is not assignable to type '"a"'`);
  });

  it("keeps a namespace's meaning", async () => {
    await ok("namespace Units { export type Meter = number; export interface Span { from: Meter; to: Meter } }\nlet Units = 'metric';");
    expect((await ok("const span: Units.Span = { from: 1, to: 4 };\nconst m: Units.Meter = span.to - span.from;\n`${m} ${Units}`")).result!.data["text/plain"]).toBe("'3 metric'");
    expect((await typeError('const wrong: Units.Meter = "far";')).evalue).toContain("Type 'string' is not assignable to type 'number'");
  });

  it("loses the type meaning when a later cell declares the let alone (as a later definition of the name does)", async () => {
    await ok("interface Shadowed { a: number }\nlet Shadowed: Shadowed = { a: 1 };");
    await ok("let Shadowed = 'now a string';");
    expect((await typeError("const sh: Shadowed = { a: 2 };")).evalue).toContain("'Shadowed' refers to a value, but is being used as a type here");
  });
});

describe("global augmentations", () => {
  it("makes `declare global` of a cell visible to every later cell", async () => {
    await ok('declare global { var appTitle: string; interface Array<T> { lastItem(): T | undefined } }\nglobalThis.appTitle = "demo";\nArray.prototype.lastItem = function () { return this[this.length - 1]; };');
    expect((await ok("appTitle.toUpperCase()")).result!.data["text/plain"]).toBe("'DEMO'");
    expect((await ok("[1, 2, 3].lastItem()")).result!.data["text/plain"]).toBe("3");
    await typeError("const t: number = appTitle;");
  });
});

describe("exports in cells", () => {
  it("accepts `export` on declarations (it has no effect beyond declaring)", async () => {
    await ok("export const shared = 2;\nexport function useShared(): number { return shared * 2; }\nexport interface Marker { m: true }");
    expect((await ok("const mk: Marker = { m: true };\nuseShared()")).result!.data["text/plain"]).toBe("4");
  });
});

describe("type errors", () => {
  it("reports each diagnostic with the cell's line:column and a caret, and does not run the cell", async () => {
    await ok("let ran = false;");
    const err = await typeError('ran = true;\nconst n: number = 1;\nconst s: string = n;\nconsole.log("never");');
    expect(err.evalue).toMatch(/^3:7 /);
    const text = err.traceback.join("\n");
    expect(text).toContain("cell line 3:7 - error TS2322");
    expect(text).toContain("  3 | const s: string = n;");
    expect(text).toContain("    |       ^");
    expect((await ok("ran")).result!.data["text/plain"]).toBe("false");
  });

  it("reports syntax errors the same way", async () => {
    const err = await typeError("const x = ;");
    expect(err.traceback.join("\n")).toMatch(/cell line 1:11 - error TS1109: Expression expected/);
  });

  it("reports a syntax error at the end of the cell at its end, in terms of the cell's own text", async () => {
    const fn = await typeError("function (");
    expect(fn.evalue).toBe("1:10 Identifier expected. (and 1 more)");
    expect(fn.traceback).toEqual([
      "cell line 1:10 - error TS1003: Identifier expected.",
      "  1 | function (",
      "    |          ^",
      "cell line 1:11 - error TS1005: ')' expected.",
      "  1 | function (",
      "    |           ^",
    ]);
    expect((await typeError("const f = (x: number) =>")).evalue).toBe("1:25 Expression expected.");
    expect((await typeError("const o = {\n  a: 1,\n")).evalue).toBe("3:1 '}' expected.");
    expect((await typeError("const t = `open ${1}")).evalue).toBe("1:21 Unterminated template literal.");
    expect((await typeError("/* never closed")).evalue).toBe("1:16 '*/' expected.");
    for (const code of ["function (", "x =>", "let y = (1", "`${"]) {
      const text = (await typeError(code)).traceback.join("\n");
      expect(text, code).not.toMatch(/export|reserved word/);
      expect(text, code).not.toMatch(/^cell - /m); // every diagnostic has a line:column
    }
  });

  it("accepts a cell that exports its own names with `export { ... }`", async () => {
    await ok("let exportedCount = 1;\ntype ExportedKind = 'a';\nexport { exportedCount, type ExportedKind };");
    expect((await ok("const kind: ExportedKind = 'a';\nexportedCount + 1")).result!.data["text/plain"]).toBe("2");
  });

  it("keeps a failed cell's names out of later cells", async () => {
    await typeError("const ghost: number = 'boo';");
    expect((await typeError("ghost")).evalue).toContain("Cannot find name 'ghost'");
  });
});
