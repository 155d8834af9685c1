/**
 * Completion, inspection and is_complete through the real kernel, aware of earlier cells.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
let notebookDir: string;
beforeAll(async () => {
  // A notebook with a package of its own and a module next to it, for completing import specifiers.
  notebookDir = mkdtempSync(join(tmpdir(), "tspool-completion-"));
  const pkg = join(notebookDir, "node_modules", "esm-only-pkg");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "esm-only-pkg", version: "1.0.0", type: "module", exports: { ".": { types: "./index.d.ts", import: "./index.js" } } }));
  writeFileSync(join(pkg, "index.js"), "export const value = 1;\n");
  writeFileSync(join(pkg, "index.d.ts"), "export declare const value: number;\n");
  writeFileSync(join(notebookDir, "helpers.ts"), "export const help = 1;\n");
  k = await startKernel({ cwd: notebookDir });
  const r = await k.client.execute(
    [
      "interface Account { owner: string; balance: number }",
      "/** Moves money between accounts.",
      " * @param amount how much, in cents */",
      "function transfer(from: Account, to: Account, amount: number): boolean { return amount > 0; }",
      "const savings: Account = { owner: 'ada', balance: 10 };",
      'import { createHash } from "node:crypto";',
    ].join("\n"),
  );
  expect(r.error).toBeUndefined();
});
afterAll(async () => {
  await k?.stop();
  rmSync(notebookDir, { recursive: true, force: true });
});

type JupyterType = { text: string; type: string; signature?: string };

async function complete(code: string, cursor = [...code].length) {
  const { reply } = await k.client.request("shell", "complete_request", { code, cursor_pos: cursor });
  expect(reply.content.status).toBe("ok");
  return reply.content as { matches: string[]; cursor_start: number; cursor_end: number; metadata: { _jupyter_types_experimental: JupyterType[] } };
}

/** The code after accepting `match` (cursor positions are code points, as on the wire). */
function accept(code: string, reply: { cursor_start: number; cursor_end: number }, match: string): string {
  const points = [...code];
  return [...points.slice(0, reply.cursor_start), match, ...points.slice(reply.cursor_end)].join("");
}

async function typeOf(code: string, name: string): Promise<JupyterType | undefined> {
  return (await complete(code)).metadata._jupyter_types_experimental.find((t) => t.text === name);
}

async function inspect(code: string, cursor = [...code].length, detail_level = 0) {
  const { reply } = await k.client.request("shell", "inspect_request", { code, cursor_pos: cursor, detail_level });
  return reply.content as { found: boolean; data: Record<string, string> };
}

async function isComplete(code: string) {
  const { reply } = await k.client.request("shell", "is_complete_request", { code });
  return reply.content as { status: string; indent?: string };
}

describe("completion", () => {
  it("completes members from the static type of an earlier cell's value", async () => {
    const c = await complete("savings.");
    expect(c.matches).toEqual(expect.arrayContaining(["owner", "balance"]));
    const c2 = await complete("savings.bal");
    expect(c2.matches[0]).toBe("balance");
    expect(c2.cursor_start).toBe("savings.".length);
    const s = await complete("savings.owner.toUpp");
    expect(s.matches).toContain("toUpperCase");
  });

  it("completes names of earlier cells, imports, locals, globals and keywords", async () => {
    expect((await complete("trans")).matches).toContain("transfer");
    expect((await complete("createH")).matches).toContain("createHash");
    expect((await complete("const localThing = 1;\nlocalT")).matches).toContain("localThing");
    expect((await complete("displ")).matches).toContain("display");
    expect((await complete("retu")).matches).toContain("return");
    expect((await complete("display.mark")).matches).toContain("markdown");
  });

  it("reports what each match is (function, class, interface, variable, module, keyword, method, property) with a signature", async () => {
    await k.client.execute("class Ledger { entries: number[] = []; add(n: number): void {} }\ntype Cents = number;\nimport * as nodePath from 'node:path';");
    expect(await typeOf("trans", "transfer")).toEqual({
      text: "transfer",
      type: "function",
      signature: "transfer(from: Account, to: Account, amount: number): boolean",
    });
    expect((await typeOf("Ledg", "Ledger"))?.type).toBe("class");
    expect((await typeOf("let a: Accou", "Account"))?.type).toBe("interface");
    expect((await typeOf("let c: Cent", "Cents"))?.type).toBe("type");
    expect(await typeOf("savi", "savings")).toEqual({ text: "savings", type: "variable", signature: "savings: Account" });
    expect((await typeOf("nodePa", "nodePath"))?.type).toBe("module");
    expect((await typeOf("createH", "createHash"))?.type).toBe("function");
    expect((await typeOf("retu", "return"))?.type).toBe("keyword");
    const add = await typeOf("new Ledger().a", "add");
    expect(add).toEqual({ text: "add", type: "method", signature: "add(n: number): void" });
    expect((await typeOf("savings.bal", "balance"))).toEqual({ text: "balance", type: "property", signature: "balance: number" });
  });

  it("completes members of values typed `any` from the live session", async () => {
    await k.client.execute("const loose: any = JSON.parse('{\"alphaKey\": 1, \"betaKey\": 2}');");
    const c = await complete("loose.al");
    expect(c.matches).toEqual(["alphaKey"]);
    expect(c.cursor_start).toBe("loose.".length);
  });

  it("completes inside the TypeScript body of a %% cell magic", async () => {
    const code = "%%pool map [1, 2]\n(n: number) => savings.bal";
    const c = await complete(code);
    expect(c.matches[0]).toBe("balance");
    expect(c.cursor_start).toBe(code.length - "bal".length);
    expect((await inspect("%%pool map [1]\n(n: number) => transfer", "%%pool map [1]\n(n: number) => trans".length)).data["text/plain"]).toContain("function transfer");
  });

  it("types a %%pool map body's unannotated parameter from the ITERABLE's items, for completion and inspection", async () => {
    // The item type of an earlier cell's array; members complete after the dot, mid-body and at its end.
    expect((await complete("%%pool map [savings, savings] --chunksize 1\n(a) => a.own")).matches).toEqual(["owner"]);
    const mid = "%%pool map [savings]\n(a) => {\n  const b = a.bal";
    expect((await complete(`${mid}\n  return b\n}`, mid.length)).matches).toEqual(["balance"]);
    expect((await complete("%%pool starmap [[savings, 2]] as [Account, number][]\n(acc, times) => acc.owner.repeat(times).toUpp")).matches).toEqual(["toUpperCase"]);
    const shown = await inspect("%%pool map new Set(['x'])\n(word) => word.length", "%%pool map new Set(['x'])\n(wo".length);
    expect(shown.data["text/plain"]).toContain("(parameter) word: string");
  });

  it("completes magic names, %pool subcommands and their unused options from the magics' grammar", async () => {
    const names = await complete("%ti");
    expect(names.matches).toEqual(["%time", "%timeit"]);
    expect([names.cursor_start, names.cursor_end]).toEqual([0, 3]);
    expect(names.metadata._jupyter_types_experimental[0]).toMatchObject({ type: "magic", signature: expect.stringContaining("wall and CPU time") });
    expect((await complete("%%ti")).matches).toEqual(["%%time", "%%timeit"]);
    expect((await complete("%lsm")).matches).toEqual(["%lsmagic"]);
    const subs = await complete("%pool st");
    expect(subs.matches).toEqual(["start", "status", "stop"]);
    expect(subs.cursor_start).toBe("%pool ".length);
    expect((await complete("%%pool ")).matches).toEqual(["map", "starmap", "run"]);
    expect((await complete("%%pool map [1, 2] --ch")).matches).toEqual(["--chunksize"]);
    expect((await complete("%%pool map [1, 2] --chunksize 2 --out r --")).matches).toEqual(["--unordered", "--timeline", "--retries", "--timeout"]);
    expect((await complete("%pool start 2 --")).matches).toEqual(["--threads"]);
    expect((await complete("%pool push sav")).matches).toEqual(["savings"]);
  });

  it("inspects magic syntax: the usage and help of a magic or a %pool subcommand with its options", async () => {
    const map = await inspect("%%pool map [1, 2] --chunksize 2\n(x: number) => x", "%%pool ma".length);
    expect(map.found).toBe(true);
    expect(map.data["text/plain"]).toMatch(/^%%pool map ITERABLE \[--chunksize K\]/);
    expect(map.data["text/plain"]).toContain("--timeout MS: fail a task that runs longer than MS milliseconds");
    expect((await inspect("%pool start 2", 3)).data["text/plain"]).toMatch(/^%pool start \[N\] \[--threads\]/);
    expect((await inspect("%timeit -n 3 f()", 4)).data["text/plain"]).toMatch(/^%timeit \[-n N\] \[-r R\] STATEMENT\n\nrun many times/);
    expect((await inspect("%pool", 3)).data["text/plain"]).toContain("Cell magics");
  });

  it("completes and inspects the TypeScript on a magic's line: the ITERABLE, a timed statement", async () => {
    const iterable = await complete("%%pool map [savings].fil --chunksize 1", "%%pool map [savings].fil".length);
    expect(iterable.matches).toEqual(["fill", "filter"]);
    expect(iterable.cursor_start).toBe("%%pool map [savings].".length);
    expect((await complete("%%pool map savings.own")).matches).toEqual(["owner"]);
    expect((await complete("%time trans")).matches).toContain("transfer");
    expect((await complete("%timeit -n 3 -r 2 sav")).matches).toContain("savings");
    expect((await inspect("%time transfer")).data["text/plain"]).toContain("function transfer");
  });

  it("completes at a cursor in the middle of the code", async () => {
    const code = "sav\nconst z = 1;";
    const c = await complete(code, 3);
    expect(c.matches).toContain("savings");
    expect(c.cursor_start).toBe(0);
    expect(c.cursor_end).toBe(3);
  });
});

describe("completion inside strings", () => {
  it("completes module specifiers over the whole specifier typed so far, without global names", async () => {
    const code = 'import x from "node:';
    const c = await complete(code);
    expect(c.matches).toContain("node:assert");
    expect(c.matches.every((m) => m.startsWith("node:"))).toBe(true);
    expect(c.cursor_start).toBe('import x from "'.length);
    expect(accept(code, c, "node:assert")).toBe('import x from "node:assert');
    expect((await complete('import x from "node:f')).matches).toEqual(["node:fs", "node:fs/promises"]);
  });

  it("finds the notebook's packages by a prefix with a dash, and its modules by a path", async () => {
    const pkg = await complete('import { value } from "esm-o');
    expect(pkg.matches).toEqual(["esm-only-pkg"]);
    expect(accept('import { value } from "esm-o', pkg, "esm-only-pkg")).toBe('import { value } from "esm-only-pkg');
    const local = await complete('import { help } from "./');
    expect(local.matches).toContain("helpers");
    expect(local.matches).not.toContain("AbortController");
    expect(local.cursor_start).toBe(local.cursor_end);
    const typed = await complete('import { help } from "./hel');
    expect(typed.matches).toEqual(["helpers"]);
    expect(accept('import { help } from "./hel', typed, "helpers")).toBe('import { help } from "./helpers');
  });

  it("replaces the whole specifier when the cursor is inside it", async () => {
    const code = 'import x from "node:as";';
    const c = await complete(code, 'import x from "node:as'.length);
    expect(c.matches).toContain("node:assert");
    expect(accept(code, c, "node:assert")).toBe('import x from "node:assert";');
  });

  it("completes the members of a string-literal union, replacing what was typed", async () => {
    const code = 'type Dashed = "a-b" | "a-c" | "b-d";\nconst pick: Dashed = "a-';
    const c = await complete(code);
    expect(c.matches).toEqual(["a-b", "a-c"]);
    expect(accept(code, c, "a-b")).toBe('type Dashed = "a-b" | "a-c" | "b-d";\nconst pick: Dashed = "a-b');
  });

  it("offers nothing but the language service's entries inside a plain string", async () => {
    const c = await complete('const greeting = "Abo');
    expect(c.matches).toEqual([]);
  });
});

describe("completion of identifiers with astral characters", () => {
  it("takes the whole identifier before the cursor, counted in code points", async () => {
    const code = "const 𝒳𝒳 = 1;\n😀; 𝒳";
    const c = await complete(code);
    expect(c.matches).toEqual(["𝒳𝒳"]);
    expect(c.cursor_start).toBe([..."const 𝒳𝒳 = 1;\n😀; "].length);
    expect(c.cursor_end).toBe([...code].length);
    expect(accept(code, c, "𝒳𝒳")).toBe("const 𝒳𝒳 = 1;\n😀; 𝒳𝒳");
  });
});

describe("inspection", () => {
  it("shows the signature and the JSDoc of a function from an earlier cell", async () => {
    const r = await inspect("transfer(savings, savings, 5)", 4);
    expect(r.found).toBe(true);
    expect(r.data["text/plain"]).toContain("function transfer(from: Account, to: Account, amount: number): boolean");
    expect(r.data["text/plain"]).toContain("Moves money between accounts.");
    expect(r.data["text/markdown"]).toContain("```typescript");
    expect(r.data["text/plain"]).toContain("@param amount how much, in cents");
  });

  it("shows the type of a value and says when there is nothing", async () => {
    expect((await inspect("savings")).data["text/plain"]).toContain("const savings: Account");
    expect((await inspect("   ", 1)).found).toBe(false);
  });

  it("finds nothing for a name that is declared nowhere", async () => {
    expect(await inspect("nothingHere")).toEqual({ status: "ok", found: false, data: {}, metadata: {} });
    expect((await inspect("nothingHere(1, ")).found).toBe(false);
    expect((await inspect("savings.nothingHere")).found).toBe(false);
    await k.client.execute("interface Shadowed { s: 1 }");
    expect((await inspect("savings.Shadowed")).found).toBe(false); // a missing member, not the type of that name
  });

  it("shows an earlier cell's interface or type alias with its JSDoc, in a type or where a value would be", async () => {
    await k.client.execute("/** A shape with a width. */\ninterface Shape { w: number }\n/** Either kind of id. */\ntype Id = string | number;");
    for (const code of ["Shape", "const s: Shape", "console.log(Shape)"]) {
      const r = await inspect(code, code.indexOf("Shape") + 2);
      expect(r.found, code).toBe(true);
      expect(r.data["text/plain"], code).toBe("interface Shape\n\nA shape with a width.");
    }
    expect((await inspect("Id")).data["text/plain"]).toBe("type Id = string | number\n\nEither kind of id.");
  });

  it("shows an earlier cell's let with its JSDoc", async () => {
    await k.client.execute("/** How many times to try. */\nlet retries = 3;");
    expect((await inspect("retries = 4", 3)).data["text/plain"]).toBe("let retries: number\n\nHow many times to try.");
  });

  it("shows the function being called when the cursor is in its arguments", async () => {
    const r = await inspect("transfer(savings, ");
    expect(r.data["text/plain"]).toContain("function transfer(from: Account, to: Account, amount: number): boolean");
    expect((await inspect("transfer(savings, savings, 1)")).data["text/plain"]).toContain("Moves money between accounts.");
  });

  it("adds the source of the declarations at detail level 1: as written in its cell, every overload", async () => {
    const brief = await inspect("transfer", 4, 0);
    expect(brief.data["text/plain"]).not.toContain("Source");
    const full = await inspect("transfer", 4, 1);
    expect(full.data["text/plain"]).toContain("Moves money between accounts.");
    expect(full.data["text/plain"]).toMatch(/Source \(cell \[\d+\]\):\n\/\*\* Moves money between accounts\.\n \* @param amount how much, in cents \*\/\nfunction transfer\(from: Account, to: Account, amount: number\): boolean \{ return amount > 0; \}/);
    expect(full.data["text/markdown"]).toContain("```typescript\n/** Moves money");

    await k.client.execute("function twice(x: number): number;\nfunction twice(x: string): string;\nfunction twice(x: any) { return x + x; }");
    const overloads = (await inspect("twice", 5, 1)).data["text/plain"];
    expect(overloads).toContain("function twice(x: number): number (+1 overload)");
    expect(overloads).toContain("function twice(x: number): number;\nfunction twice(x: string): string;\nfunction twice(x: any) { return x + x; }");

    const library = (await inspect('import { readFileSync } from "node:fs";\nreadFileSync', undefined, 1)).data["text/plain"];
    expect(library).toContain("Source (node_modules/@types/node/fs.d.ts):");
    expect(library.match(/export function readFileSync\(/g)?.length).toBeGreaterThan(1);
  });
});

describe("is_complete", () => {
  it("asks for more lines for unclosed brackets, strings, templates and cut statements, with an indent", async () => {
    expect(await isComplete("function f() {")).toEqual({ status: "incomplete", indent: "  " });
    expect(await isComplete("  const a = [1,")).toEqual({ status: "incomplete", indent: "    " });
    expect((await isComplete("const s = `abc ${1}")).status).toBe("incomplete");
    expect((await isComplete("/* note")).status).toBe("incomplete");
    expect((await isComplete("const x = 1 +")).status).toBe("incomplete");
  });

  it("accepts complete code and rejects hopeless code", async () => {
    expect(await isComplete("const x = { a: [1, 2] };")).toEqual({ status: "complete" });
    expect(await isComplete("const re = /[(]/; `${re}`")).toEqual({ status: "complete" });
    expect((await isComplete("foo())")).status).toBe("invalid");
    expect((await isComplete("let = = 3;")).status).toBe("invalid");
    expect(await isComplete("%pool status")).toEqual({ status: "complete" });
  });

  it("waits for the body of a cell magic, then judges the body", async () => {
    expect(await isComplete("%%pool map [1, 2]")).toEqual({ status: "incomplete", indent: "" });
    expect((await isComplete("%%pool map [1, 2]\n(n: number) => {")).status).toBe("incomplete");
    expect(await isComplete("%%pool map [1, 2]\n(n: number) => n * 2")).toEqual({ status: "complete" });
  });
});
