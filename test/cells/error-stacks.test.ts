/**
 * Stacks of errors a cell creates and shows, prints or reads (`err.stack`), through the real
 * kernel: frames in cells carry the cell's own line:column, the kernel's own frames never show,
 * frames of the user's libraries and of Node's built-ins stay (as Node's REPL shows them), code
 * that installs its own Error.prepareStackTrace still gets what it asks for, and uncaught errors
 * are mapped exactly once.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";
import { plain } from "../helpers/kernel-client.js";

const s = useKernel({}, async ({ kernel }) => {
  writeFileSync(join(kernel.cwd, "maker.mjs"), 'export function makeError(message) {\n  return new Error(message);\n}\n');
});

/** The `at ...` lines of a printed stack. */
const framesOf = (text: string) => text.split("\n").filter((l) => /^\s+at /.test(l)).map((l) => l.trim());

/** Runs `code` and returns its execution count and the cell name its frames use. */
async function run(code: string) {
  const r = await s.kernel.client.execute(code);
  expect(r.reply.content.status, JSON.stringify(r.error)).toBe("ok");
  return { r, cell: `cell[${r.reply.content.execution_count}]` };
}

describe("stacks of errors a cell shows, prints or reads", () => {
  it("an error shown as the cell's value points at the cell's line and column, with no kernel frames", async () => {
    const { r, cell } = await run('const unused = 1;\n  new Error("shown not thrown")');
    expect(plain(r)).toBe(`Error: shown not thrown\n    at ${cell}:2:3`);
  });

  it("console.error of a caught error shows each cell frame at its own line", async () => {
    const { r, cell } = await run('function mk() {\n  return new Error("made")\n}\ntry { throw mk() } catch (e) { console.error(e) }');
    expect(r.stderr.split("\n")[0]).toBe("Error: made");
    expect(framesOf(r.stderr)).toEqual([`at mk (${cell}:2:10)`, `at ${cell}:4:13`]);
  });

  it("err.stack read by the cell is mapped the same way, after an await too", async () => {
    const { r, cell } = await run('await null;\nconst e = new TypeError("read");\nconsole.log(e.stack)');
    expect(r.stdout).toBe(`TypeError: read\n    at ${cell}:2:11\n`);
  });

  it("a function of an earlier cell keeps that cell's name and lines", async () => {
    const { cell: earlier } = await run("// an earlier cell\nfunction deep(n: number): Error {\n  return n === 0 ? new RangeError('bottom') : deep(n - 1);\n}");
    const { r, cell } = await run("console.log(deep(2).stack)");
    expect(framesOf(r.stdout)).toEqual([
      `at deep (${earlier}:3:20)`,
      `at deep (${earlier}:3:47)`,
      `at deep (${earlier}:3:47)`,
      `at ${cell}:1:13`,
    ]);
  });

  it("keeps frames of the user's own modules and of Node's built-ins, as Node's REPL shows them", async () => {
    const { r, cell } = await run('import { makeError } from "./maker.mjs";\nconst made = [1].map(() => makeError("from a module"))[0];\nconsole.log(made.stack)');
    const frames = framesOf(r.stdout);
    expect(frames[0]).toMatch(/^at makeError \(file:\/\/.*\/maker\.mjs(?:\?[^:]*)?:2:10\)$/);
    expect(frames[1]).toBe(`at ${cell}:2:28`);
    expect(frames[2]).toBe("at Array.map (<anonymous>)");
    expect(frames[3]).toBe(`at ${cell}:2:18`);
    expect(frames).toHaveLength(4);
  });

  it("shows only the cell's frame for a timer callback, none of the kernel's timer plumbing", async () => {
    const { r, cell } = await run("await new Promise<void>((done) => setTimeout(() => {\n  console.log(new Error('in a timer').stack);\n  done();\n}, 1));");
    expect(r.stdout).toBe(`Error: in a timer\n    at Timeout.<anonymous> (${cell}:2:15)\n`);
  });

  it("code that installs its own Error.prepareStackTrace gets raw call sites, and restoring it restores the mapping", async () => {
    const { r, cell } = await run(
      [
        "const saved = Error.prepareStackTrace;",
        "Error.prepareStackTrace = (_err, sites) => sites;",
        "const sites = new Error('sites').stack as unknown as NodeJS.CallSite[];",
        "Error.prepareStackTrace = saved;",
        "console.log(typeof sites[0].getLineNumber(), sites.length > 1);",
        "console.log(new Error('again').stack);",
      ].join("\n"),
    );
    expect(r.stdout).toBe(`number true\nError: again\n    at ${cell}:6:13\n`);
  });

  it("a formatter that wraps the one it replaced still gets the mapped stack", async () => {
    const { r, cell } = await run(
      [
        "const before = Error.prepareStackTrace!;",
        "Error.prepareStackTrace = (err, sites) => '[wrapped] ' + before(err, sites);",
        "try { console.log(new Error('w').stack); } finally { Error.prepareStackTrace = before; }",
      ].join("\n"),
    );
    expect(r.stdout).toBe(`[wrapped] Error: w\n    at ${cell}:3:19\n`);
  });

  it("keeps Node's own error headers (the code of Node's errors)", async () => {
    const { r } = await run('try { require("node:fs").readFileSync({} as any) } catch (e) { console.log((e as Error).stack!.split("\\n")[0]) }');
    expect(r.stdout).toMatch(/^TypeError \[ERR_INVALID_ARG_TYPE\]: The "path" argument/);
  });
});

describe("uncaught errors whose stack was already read", () => {
  it("are mapped once: the traceback shows the same cell positions err.stack showed", async () => {
    const r = await s.kernel.client.execute('const seen = new Error("thrown after reading");\nconsole.log(seen.stack);\nthrow seen;');
    const cell = `cell[${r.reply.content.execution_count}]`;
    expect(r.stdout).toBe(`Error: thrown after reading\n    at ${cell}:1:14\n`);
    expect(r.error!.traceback).toEqual(["Error: thrown after reading", `    at ${cell}:1:14`]);
  });

  it("are mapped once when the cell extended the stack text before throwing", async () => {
    const r = await s.kernel.client.execute('const grown = new Error("grown");\ngrown.stack = grown.stack + "\\n    at extra (elsewhere.js:1:1)";\nthrow grown;');
    const cell = `cell[${r.reply.content.execution_count}]`;
    expect(r.error!.traceback).toEqual(["Error: grown", `    at ${cell}:1:15`, "    at extra (elsewhere.js:1:1)"]);
  });

  it("a cause chain read before throwing is mapped once too", async () => {
    const r = await s.kernel.client.execute('const low = new Error("low");\nvoid low.stack;\nconst high = new Error("high", { cause: low });\nvoid high.stack;\nthrow high;');
    const cell = `cell[${r.reply.content.execution_count}]`;
    expect(r.error!.traceback).toEqual(["Error: high", `    at ${cell}:3:14`, "Caused by: Error: low", `    at ${cell}:1:13`]);
  });
});
