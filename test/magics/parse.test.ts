import { describe, expect, it } from "vitest";
import { parseMagicCell, isMagicCell, MagicUsageError } from "../../dist/magics/parse.js";
import { editDistance, closest } from "../../dist/magics/suggest.js";
import { allUsageLines } from "../../dist/magics/forms.js";

function usageError(code: string): string {
  try {
    parseMagicCell(code);
  } catch (e) {
    expect(e).toBeInstanceOf(MagicUsageError);
    return (e as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(code)}`);
}

describe("magic cell detection", () => {
  it("looks at the first non-blank line only", () => {
    expect(isMagicCell("\n  \n%pool status")).toBe(true);
    expect(isMagicCell("const x = 1 % 2")).toBe(false);
    expect(isMagicCell("x\n%pool status")).toBe(false);
  });
});

describe("%pool line magics", () => {
  it("parses start with and without a count and --threads", () => {
    expect(parseMagicCell("%pool start")).toEqual({ type: "line", magics: [{ kind: "pool-start", workers: undefined, threads: false }] });
    expect(parseMagicCell("%pool start 3 --threads")).toEqual({ type: "line", magics: [{ kind: "pool-start", workers: 3, threads: true }] });
    expect(parseMagicCell("%pool start --threads 2").type).toBe("line");
  });
  it("parses several line magics in one cell", () => {
    const p = parseMagicCell("%pool start 2\n\n  %pool status\n");
    expect(p).toEqual({ type: "line", magics: [{ kind: "pool-start", workers: 2, threads: false }, { kind: "pool-status" }] });
  });
  it("parses push and pull", () => {
    expect(parseMagicCell("%pool push a b, c")).toEqual({ type: "line", magics: [{ kind: "pool-push", names: ["a", "b", "c"] }] });
    expect(parseMagicCell("%pool pull counter")).toEqual({ type: "line", magics: [{ kind: "pool-pull", name: "counter" }] });
  });
  it("rejects bad arguments with an example of the right form", () => {
    expect(usageError("%pool start two")).toMatch(/N must be a positive whole number.*`%pool start 2`/);
    expect(usageError("%pool push")).toMatch(/needs the names/);
    expect(usageError("%pool pull a b")).toMatch(/exactly one name/);
    expect(usageError("%pool status now")).toMatch(/takes no arguments/);
    expect(usageError("%pool start 2 --thread")).toMatch(/did you mean `%pool start 2 --threads`/);
  });
});

describe("%%pool cell magics", () => {
  it("keeps an ITERABLE with spaces, brackets, strings and minus signs whole", () => {
    const p = parseMagicCell(`%%pool map xs.filter((s) => s !== "--out x" && s[0] !== '-') --chunksize 5 --out r\n(x: string) => x`);
    expect(p).toMatchObject({
      type: "cell",
      magic: { kind: "pool-map", star: false, iterable: `xs.filter((s) => s !== "--out x" && s[0] !== '-')`, options: { chunksize: 5, out: "r", unordered: false, timeline: false }, body: "(x: string) => x", lineOffset: 1 },
    });
    const t = parseMagicCell("%%pool map `a ${b --c} d` --unordered --timeline\nf");
    expect(t).toMatchObject({ magic: { iterable: "`a ${b --c} d`", options: { unordered: true, timeline: true } } });
    const d = parseMagicCell("%%pool map a / b / c --retries 0 --timeout 250\nf");
    expect(d).toMatchObject({ magic: { iterable: "a / b / c", options: { retries: 0, timeout: 250 } } });
    const r = parseMagicCell("%%pool map xs.map(s => s.replace(/--x/g, '')) --out=y\nf");
    expect(r).toMatchObject({ magic: { iterable: "xs.map(s => s.replace(/--x/g, ''))", options: { out: "y" } } });
  });
  it("accepts options before the ITERABLE and counts body lines after blank leading lines", () => {
    const p = parseMagicCell("\n%%pool starmap --unordered [[1, 2], [3, 4]]\n(a: number, b: number) => a + b");
    expect(p).toMatchObject({ magic: { kind: "pool-map", star: true, iterable: "[[1, 2], [3, 4]]", lineOffset: 2, options: { unordered: true } } });
  });
  it("parses run with targets and out", () => {
    expect(parseMagicCell("%%pool run --targets 0,2 --out vals\nglobalThis.k = 1")).toMatchObject({
      magic: { kind: "pool-run", targets: [0, 2], out: "vals", body: "globalThis.k = 1", lineOffset: 1 },
    });
    expect(usageError("%%pool run --targets a,b\nx")).toMatch(/worker ids separated by commas/);
  });
  it("reports malformed cells", () => {
    expect(usageError("%%pool map\nf")).toMatch(/needs an ITERABLE.*`%%pool map \[1, 2, 3\]`/);
    expect(usageError("%%pool map xs\n   \n")).toMatch(/needs a body/);
    expect(usageError("%%pool map (xs --out r\nf")).toMatch(/unclosed \(/);
    expect(usageError("%%pool map xs --out 3x\nf")).toMatch(/needs a variable name/);
    expect(usageError("%%pool map xs --chunksize\nf")).toMatch(/`--chunksize` needs a value, e.g. `--chunksize 100`/);
    expect(usageError("%%pool map xs --unordered=yes\nf")).toMatch(/is a flag/);
    expect(usageError("%%pool map xs --out a --out b\nf")).toMatch(/given twice/);
    expect(usageError("%%pool map xs --unordered ys\nf")).toMatch(/one expression/);
  });
});

describe("options written with the wrong dashes", () => {
  it("suggest the -- form for one hyphen, three, or a dash autocorrect made of --", () => {
    expect(usageError("%%pool map xs -chunksize 2\nf")).toBe("`%%pool map`: `-chunksize` starts with one hyphen where options have two: did you mean `%%pool map xs --chunksize 2`?");
    expect(usageError("%%pool map xs \u2014chunksize 2\nf")).toContain("`\u2014chunksize` starts with an em dash (\u2014) where options have two ASCII hyphens (autocorrect often turns `--` into a dash): did you mean `%%pool map xs --chunksize 2`?");
    expect(usageError("%%pool map xs \u2013unordered\nf")).toContain("an en dash (\u2013)");
    expect(usageError("%%pool map xs \u2212u\nf")).toContain("a minus sign (\u2212)");
    expect(usageError("%%pool map xs ---timeline\nf")).toContain("`---timeline` starts with 3 hyphens where options have two: did you mean `%%pool map xs --timeline`?");
    // a first letter, a start, a typo; several at once are all put right
    expect(usageError("%%pool map xs -u\nf")).toContain("did you mean `%%pool map xs --unordered`?");
    expect(usageError("%%pool map xs -chunk=3 -o r\nf")).toContain("did you mean `%%pool map xs --chunksize=3 --out r`?");
    expect(usageError("%%pool map xs -chunksiz 4\nf")).toContain("did you mean `%%pool map xs --chunksize 4`?");
    expect(usageError("%%pool map xs --chunksize 2 -u\nf")).toContain("did you mean `%%pool map xs --chunksize 2 --unordered`?");
    // an ambiguous letter, and a typographic dash before no option
    expect(usageError("%%pool map xs -t\nf")).toContain("`-t` could be `--timeline` or `--timeout MS`: write the one you mean in full.");
    expect(usageError("%%pool map xs \u2014fast\nf")).toContain("there is no option `--fast` either; the options are `--chunksize K`, `--unordered`,");
    // a space after the dashes; a subtraction keeps its space
    expect(usageError("%%pool map xs -- chunksize 2 --  unordered\nf")).toBe("`%%pool map`: `-- chunksize` has a space after `--`, where an option's name follows its two hyphens directly: did you mean `%%pool map xs --chunksize 2 --unordered`?");
    expect(usageError("%%pool map xs \u2014 timeline\nf")).toContain("`\u2014 timeline` starts with an em dash (\u2014) where options have two ASCII hyphens (and a space before the option's name)");
    expect(parseMagicCell("%%pool map xs - u\nf")).toMatchObject({ magic: { iterable: "xs - u" } });
    // the line forms too
    expect(usageError("%pool start 2 \u2014threads")).toContain("did you mean `%pool start 2 --threads`?");
    expect(usageError("%%pool run -targets 0,1\nx")).toContain("did you mean `%%pool run --targets 0,1`?");
  });
  it("leave minus signs that belong to the ITERABLE alone", () => {
    const iterable = (line: string) => (parseMagicCell(`${line}\nf`) as { magic: { iterable: string } }).magic.iterable;
    expect(iterable("%%pool map range(-5, 5)")).toBe("range(-5, 5)");
    expect(iterable("%%pool map [-1, -2] --unordered")).toBe("[-1, -2]");
    expect(iterable("%%pool map xs.map(x => x - 1)")).toBe("xs.map(x => x - 1)");
    expect(iterable("%%pool map xs.map((u) => -u)")).toBe("xs.map((u) => -u)");
    expect(iterable("%%pool map a -b")).toBe("a -b"); // not an option's name: TypeScript judges it
    expect(iterable("%%pool map total -count")).toBe("total -count");
    expect(iterable("%%pool map ['-u', `-t ${x}`, /-u/]")).toBe("['-u', `-t ${x}`, /-u/]");
    expect(iterable("%%pool map xs // -u")).toBe("xs // -u");
    // the value of an option is checked as that option's value
    expect(usageError("%%pool map xs --out -u\nf")).toMatch(/`--out -u`: needs a variable name/);
  });
});

describe("--out NAME", () => {
  it("refuses names it cannot take over, saying why", () => {
    expect(usageError("%%pool map xs --out _\nf")).toMatch(/`--out _`: `_` always holds the value of the last cell that had one.*use e\.g\. `--out results`/);
    expect(usageError("%%pool run --out pool\nx")).toMatch(/`--out pool`: `pool` is the notebook's worker pool/);
    expect(usageError("%%pool map xs --out display\nf")).toMatch(/`display` is the kernel's function that shows rich output; binding the results to it would replace it/);
    expect(usageError("%%pool map xs --out await\nf")).toMatch(/`await` is a reserved word of TypeScript/);
    expect(usageError("%%pool map xs --out undefined\nf")).toMatch(/`undefined` is built into JavaScript and cannot be declared again/);
    expect(usageError("%%pool map xs --out arguments\nf")).toMatch(/built into JavaScript/);
    expect(usageError("%%pool map xs --out __tspool_x\nf")).toMatch(/names starting with `__tspool` are tspool's own/);
    expect(parseMagicCell("%%pool map xs --out _results\nf")).toMatchObject({ magic: { options: { out: "_results" } } });
    expect(parseMagicCell("%%pool map xs --out $\nf")).toMatchObject({ magic: { options: { out: "$" } } });
  });
});

describe("did you mean", () => {
  it("suggests the closest valid form", () => {
    expect(usageError("%%pool mpa xs\nf")).toContain("did you mean `%%pool map xs`?");
    expect(usageError("%%pool strmap xs\nf")).toContain("did you mean `%%pool starmap xs`?");
    expect(usageError("%pool stauts")).toContain("did you mean `%pool status`?");
    expect(usageError("%pool map xs")).toContain("did you mean `%%pool map xs`");
    expect(usageError("%%pool status\n")).toContain("did you mean `%pool status`");
    expect(usageError("%%pool map xs --chunks 4\nf")).toContain("did you mean `%%pool map xs --chunksize 4`?");
    expect(usageError("%%pool map xs --unorderd\nf")).toContain("did you mean `%%pool map xs --unordered`?");
    expect(usageError("%tiem fib(3)")).toContain("did you mean `%time fib(3)`?");
    expect(usageError("%%timeti\nf()")).toContain("did you mean `%%timeit`?");
    expect(usageError("%pol status")).toContain("did you mean `%pool status`?");
    expect(usageError("%%who\n")).toContain("`%who` is a line magic");
  });
  it("lists the valid forms when nothing is close", () => {
    expect(usageError("%frobnicate")).toMatch(/unknown magic `%frobnicate`.*%lsmagic/);
    expect(usageError("%pool xyzzyq")).toMatch(/See `%pool help`/);
  });
  it("measures distance with adjacent swaps as one edit", () => {
    expect(editDistance("mpa", "map")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(closest("strt", ["start", "status", "stop"])).toBe("start");
    expect(closest("zzzzzz", ["map", "run"])).toBeUndefined();
  });
});

describe("timing and other magics", () => {
  it("parses %time, %timeit with -n/-r, %%time, %%timeit, %who, %lsmagic", () => {
    expect(parseMagicCell("%time fib(20)")).toEqual({ type: "line", magics: [{ kind: "time", code: "fib(20)", lineOffset: 0, column: 6 }] });
    expect(parseMagicCell("%timeit -n 10 -r 3 f(1)")).toMatchObject({ magics: [{ kind: "timeit", code: "f(1)", number: 10, repeat: 3 }] });
    expect(parseMagicCell("%%time\nconst a = f()")).toMatchObject({ type: "cell", magic: { kind: "time-cell", body: "const a = f()", lineOffset: 1 } });
    expect(parseMagicCell("%%timeit -r 2\nf()")).toMatchObject({ magic: { kind: "timeit-cell", repeat: 2 } });
    expect(parseMagicCell("%who").type).toBe("line");
    expect(parseMagicCell("%lsmagic")).toEqual({ type: "line", magics: [{ kind: "lsmagic" }] });
    expect(usageError("%timeit -n x f()")).toMatch(/positive whole number/);
    expect(usageError("%time")).toMatch(/needs a statement/);
    expect(usageError("%pool start\nconst x = 1")).toMatch(/TypeScript after a line magic/);
  });
  it("has a usage line for every form", () => {
    const lines = allUsageLines();
    expect(lines).toContain("%%pool map ITERABLE [--chunksize K] [--unordered] [--out NAME] [--timeline] [--retries R] [--timeout MS]");
    expect(lines).toContain("%pool start [N] [--threads]");
    expect(lines).toContain("%%pool run [--targets LIST] [--out NAME]");
    expect(lines).toContain("%who");
  });
});
