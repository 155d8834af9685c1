/**
 * Top-level `using` and `await using` in a cell through the real kernel: the resources are
 * disposed at the end of the cell, and the cell's last expression is still its result, evaluated
 * before the disposal.
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";

const { ok } = useKernel();

describe("a cell with top-level using declarations", () => {
  it("shows its last expression's value, taken before the resources are disposed", async () => {
    await ok("const events: string[] = [];\nconst resource = (name: string) => ({ name, [Symbol.dispose]() { events.push(`disposed ${name}`); } });");
    const r = await ok('using first = resource("a");\nevents.push("body");\n[first.name, ...events]');
    expect(r.result!.data["text/plain"]).toBe("[ 'a', 'body' ]");
    expect((await ok("events")).result!.data["text/plain"]).toBe("[ 'body', 'disposed a' ]");
  });

  it("does so with await using and an async disposer", async () => {
    const r = await ok('await using conn = { async [Symbol.asyncDispose]() { await new Promise((r) => setTimeout(r, 5)); console.log("closed"); } };\nconsole.log("body");\n6 * 7');
    expect(r.stdout).toBe("body\nclosed\n");
    expect(r.result!.data["text/plain"]).toBe("42");
  });

  it("shows no result when the cell ends with a declaration, and keeps the declared names", async () => {
    const r = await ok('using held = resource("b");\nconst kept = held.name + "!";');
    expect(r.result).toBeUndefined();
    expect((await ok("kept")).result!.data["text/plain"]).toBe("'b!'");
  });
});
