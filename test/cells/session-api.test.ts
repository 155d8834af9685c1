/**
 * The session contract the magics build on (C1/C2), on the real compiled session in this
 * process: the binding registry (kinds, cells, standalone JS, import URLs, newest wins),
 * evaluateCell with a line offset, and compileForWorker producing scripts that run elsewhere.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-ignore: compiled output, built by `tsc -p .` before the tests
import { Session } from "../../dist/kernel/executor/session.js";

type AnySession = {
  bindings: { get(n: string): any; all(): any[] };
  executionCount: number;
  evaluateCell(ts: string, o: { parent: string; lineOffset?: number }): Promise<any>;
  compileForWorker(ts: string, o?: { lineOffset?: number }): any;
  mapStack(s: string): string;
};

let s: AnySession;
let count = 0;
async function cell(code: string, lineOffset?: number) {
  s.executionCount = ++count;
  return s.evaluateCell(code, { parent: `p${count}`, lineOffset });
}

beforeAll(() => {
  s = new Session({ notebookDir: mkdtempSync(join(tmpdir(), "tspool-session-")), emit: () => undefined }) as AnySession;
});

describe("binding registry", () => {
  it("records every top-level binding with its kind, cell and what workers need", async () => {
    const r = await cell(
      [
        'import { createHash } from "node:crypto";',
        "import * as path from 'node:path';",
        "const rate = 2; let seen = 0; var legacy = 'v';",
        "function scale(x: number) { return x * rate; }",
        "class Meter { read() { return scale(seen); } }",
        "enum Unit { Cm = 1, M = 100 }",
        "interface Shape { area(): number }",
        "type Id = string;",
      ].join("\n"),
    );
    expect(r.status).toBe("ok");
    expect(r.declared.sort()).toEqual(["Id", "Meter", "Shape", "Unit", "createHash", "legacy", "path", "rate", "scale", "seen"]);
    const kinds = Object.fromEntries(s.bindings.all().map((b) => [b.name, b.kind]));
    expect(kinds).toMatchObject({
      createHash: "import", path: "import", rate: "const", seen: "let", legacy: "var",
      scale: "function", Meter: "class", Unit: "enum", Shape: "interface", Id: "type",
    });
    expect(s.bindings.get("rate").cell).toBe(count);
    expect(s.bindings.get("scale").js).toBe("function scale(x) { return x * rate; }");
    expect(s.bindings.get("Meter").js).toMatch(/^class Meter \{/);
    expect(s.bindings.get("createHash").importSpec).toEqual({ url: "node:crypto", imported: "createHash" });
    expect(s.bindings.get("path").importSpec).toEqual({ url: "node:path", imported: "*" });
    // The enum's JS is an expression that rebuilds it.
    const unit = vm.runInNewContext(s.bindings.get("Unit").js);
    expect(unit.M).toBe(100);
    expect(unit[1]).toBe("Cm");
    // Function JS is a function expression that works given its free names.
    const scale = vm.runInNewContext(`rate = 3; (${s.bindings.get("scale").js})`);
    expect(scale(2)).toBe(6);
  });

  it("keeps the newest definition and drops nothing else", async () => {
    await cell("const rate = 10;");
    expect(s.bindings.get("rate")).toMatchObject({ kind: "const", cell: count });
    expect(s.bindings.get("scale").kind).toBe("function");
    expect((globalThis as any).rate).toBe(10);
  });

  it("does not record a cell that fails to type-check, and records only what a throwing cell reached", async () => {
    const before = s.bindings.all().length;
    expect((await cell("const broken: number = 'x';")).status).toBe("error");
    expect(s.bindings.all().length).toBe(before);
    expect(s.bindings.get("broken")).toBeUndefined();
    expect((await cell("const reachedFirst = 1;\nif (reachedFirst) throw new Error('no');\nconst neverReached = 2;")).status).toBe("error");
    expect(s.bindings.get("reachedFirst")?.kind).toBe("const");
    expect(s.bindings.get("neverReached")).toBeUndefined();
    expect(s.bindings.all().length).toBe(before + 1);
  });
});

describe("evaluateCell", () => {
  it("returns the raw last value and the declared names", async () => {
    const value = { deep: [1, 2] };
    (globalThis as any).handOver = value;
    const r = await cell("const got = (globalThis as any).handOver;\ngot");
    expect(r).toEqual({ status: "ok", value, declared: ["got"] });
    expect(r.value).toBe(value);
  });

  it("shifts type-error and runtime-error lines by lineOffset", async () => {
    const te = await cell("const a = 1;\nconst b: string = a;", 3);
    expect(te.ename).toBe("TSError");
    expect(te.evalue).toMatch(/^5:7 /);
    const re = await cell("const c = 1;\nthrow new Error('here');", 3);
    expect(re.ename).toBe("Error");
    expect(re.traceback[1]).toMatch(/cell\[\d+\]:5:7/);
  });
});

describe("compileForWorker", () => {
  it("type-checks against earlier cells without running or recording anything", async () => {
    const before = s.bindings.all().length;
    const r = s.compileForWorker("const workerOnly = scale(2);\nworkerOnly + 1");
    expect(r.status).toBe("ok");
    expect(r.declared).toEqual(["workerOnly"]);
    expect(s.bindings.all().length).toBe(before);
    expect((globalThis as any).workerOnly).toBeUndefined();
    const bad = s.compileForWorker("x\nconst n: number = scale('a');", { lineOffset: 1 });
    expect(bad.status).toBe("error");
    expect(bad.evalue).toMatch(/^2:1 Cannot find name 'x'/);
  });

  it("gives a script whose declarations become globals and whose completion value is the last expression", () => {
    const r = s.compileForWorker("const base = 4;\nfunction twice(n: number) { return 2 * n; }\nclass K { v = twice(base); }\nnew K().v + base");
    const ctx = vm.createContext({});
    expect(vm.runInContext(r.js, ctx)).toBe(12);
    expect(vm.runInContext("typeof twice + ' ' + base + ' ' + new K().v", ctx)).toBe("function 4 8");
    // Running it again redeclares without complaint (a re-run of the same %%pool run body).
    expect(vm.runInContext(r.js, ctx)).toBe(12);
  });

  it("maps stacks of the script, run under the filename it was compiled for, to the cell's lines", () => {
    const r = s.compileForWorker("interface Unused { a: number }\n\nfunction failing(n: number) {\n  if (n > 0) throw new Error('worker side');\n}\nfailing(1);", { lineOffset: 2, filename: "tspool-test-worker-7" });
    expect(r.status).toBe("ok");
    let stack = "";
    try {
      vm.runInContext(r.js, vm.createContext({ Error }), { filename: "tspool-test-worker-7" });
    } catch (err) {
      stack = (err as Error).stack!;
    }
    const mapped = s.mapStack(stack);
    expect(mapped).toContain("Error: worker side");
    expect(mapped).toMatch(new RegExp(`at failing \\(cell\\[${s.executionCount}\\]:6:20\\)`));
    expect(mapped).toMatch(new RegExp(`cell\\[${s.executionCount}\\]:8:1`));
    expect(mapped).not.toContain("node:vm");
  });

  it("gives a promise of the value when the code awaits or imports", async () => {
    const r = s.compileForWorker('import { join } from "node:path";\nawait Promise.resolve(1);\njoin("a", "b")');
    expect(r.status).toBe("ok");
    const value = await vm.runInThisContext(r.js, { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    expect(value).toBe("a/b");
  });
});
