/**
 * Running cells through the real kernel: results as Node's REPL prints them, `_`, top-level
 * await, names starting with `__`, console output as streams, values that display themselves,
 * and runtime errors whose traceback points at the cell's own lines.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";
import { plain } from "../helpers/kernel-client.js";

let k: RunningKernel;
beforeAll(async () => {
  k = await startKernel();
});
afterAll(async () => {
  await k?.stop();
});

describe("results", () => {
  it("publishes the last expression as execute_result with text/plain as the REPL prints it", async () => {
    const r = await k.client.execute('({ name: "ada", tags: ["x"], nested: { deep: { deeper: { deepest: 1 } } } })');
    expect(r.reply.content.status).toBe("ok");
    expect(plain(r)).toBe("{ name: 'ada', tags: [ 'x' ], nested: { deep: { deeper: [Object] } } }");
    expect(r.result!.execution_count).toBe(r.reply.content.execution_count);
    expect(plain(await k.client.execute('"quoted"'))).toBe("'quoted'");
    expect(plain(await k.client.execute("new Map([[1, 'a']])"))).toBe("Map(1) { 1 => 'a' }");
  });

  it("publishes no result for undefined, declarations or a trailing semicolon-free statement", async () => {
    expect((await k.client.execute("undefined")).result).toBeUndefined();
    expect((await k.client.execute("const decl = 1")).result).toBeUndefined();
    expect((await k.client.execute("if (decl) { 5 }")).result).toBeUndefined();
  });

  it("keeps the last result in `_`", async () => {
    await k.client.execute("21 * 2");
    expect(plain(await k.client.execute("_ + 1"))).toBe("43");
  });

  it("does not await a promise that is the cell's value (as the REPL shows it)", async () => {
    expect(plain(await k.client.execute("Promise.resolve(7)"))).toBe("Promise { 7 }");
  });

  it("supports top-level await, also in declarations", async () => {
    const r = await k.client.execute("const later = await new Promise<number>((r) => setTimeout(() => r(9), 20));\nlater * 2");
    expect(plain(r)).toBe("18");
    expect(plain(await k.client.execute("later"))).toBe("9");
  });

  it("keeps identifiers that start with __ intact", async () => {
    await k.client.execute("const __private = 3; function __helper(x: number) { return x + __private; }");
    expect(plain(await k.client.execute("__helper(__private)"))).toBe("6");
  });

  it("gives a rich bundle for values that can display themselves", async () => {
    const r = await k.client.execute(
      'const card = { [Symbol.for("tspool.display")]() { return { "text/html": "<i>card</i>" }; } };\ncard',
    );
    expect(r.result!.data["text/html"]).toBe("<i>card</i>");
    expect(r.result!.data["text/plain"]).toContain("Symbol(tspool.display)");
    const r2 = await k.client.execute('({ toHTML() { return "<b>t</b>"; } })');
    expect(r2.result!.data["text/html"]).toBe("<b>t</b>");
  });
});

describe("output", () => {
  it("sends console output as stdout/stderr streams of the cell", async () => {
    const r = await k.client.execute('console.log("out", 1); console.error("err"); process.stdout.write("raw\\n");');
    expect(r.stdout).toBe("out 1\nraw\n");
    expect(r.stderr).toBe("err\n");
  });

  it("sends output of a timer to the cell that set it, even while a later cell runs", async () => {
    const a = await k.client.execute('setTimeout(() => console.log("from the first cell"), 300);\nconst ticker = setInterval(() => console.log("tick"), 100);\nsetTimeout(() => clearInterval(ticker), 550);');
    const b = await k.client.execute('await new Promise((r) => setTimeout(r, 800));\nconsole.log("from the second cell");');
    expect(b.stdout).toBe("from the second cell\n");
    const laterForA = k.client
      .iopubOf(a.msgId)
      .filter((m) => m.header.msg_type === "stream")
      .map((m) => m.content.text)
      .join("");
    expect(laterForA).toContain("from the first cell\n");
    expect(laterForA).toContain("tick\n");
  });

  it("sends output of a promise chain to the cell that started it, even when a later cell settles the promise", async () => {
    const a = await k.client.execute(
      [
        "let release!: () => void;",
        "const gate = new Promise<void>((r) => (release = r));",
        'gate.then(() => console.log("then of the first cell")).then(() => queueMicrotask(() => console.log("microtask of the first cell")));',
        '(async () => { await gate; await null; console.log("async of the first cell"); display.text("display of the first cell"); process.nextTick(() => console.error("tick of the first cell")); })();',
      ].join("\n"),
    );
    expect(a.reply.content.status).toBe("ok");
    const b = await k.client.execute('release();\nawait gate;\nawait new Promise((r) => setTimeout(r, 50));\nconsole.log("second cell");');
    expect(b.stdout).toBe("second cell\n");
    expect(b.stderr).toBe("");
    expect(b.displays).toHaveLength(0);
    const laterForA = k.client.iopubOf(a.msgId);
    const text = (name: string) => laterForA.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => m.content.text).join("");
    expect(text("stdout")).toContain("then of the first cell\n");
    expect(text("stdout")).toContain("microtask of the first cell\n");
    expect(text("stdout")).toContain("async of the first cell\n");
    expect(text("stderr")).toContain("tick of the first cell\n");
    expect(laterForA.filter((m) => m.header.msg_type === "display_data").map((m) => m.content.data["text/plain"])).toEqual(["display of the first cell"]);
  });

  it("publishes nothing for a silent execution but still runs it", async () => {
    const r = await k.client.execute('console.log("hidden"); globalThis.silentRan = 1; 5', { silent: true, store_history: false });
    expect(r.stdout).toBe("");
    expect(r.result).toBeUndefined();
    expect(plain(await k.client.execute("(globalThis as any).silentRan"))).toBe("1");
  });
});

describe("runtime errors", () => {
  it("reports the error with a traceback on the cell's own lines, without kernel or node frames", async () => {
    await k.client.execute("function inner(n: number): number {\n  if (n > 1) throw new RangeError(`too big: ${n}`);\n  return n;\n}");
    const r = await k.client.execute("const a = 1;\n\ninner(a);\ninner(a + 1);");
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.ename).toBe("RangeError");
    expect(r.error!.evalue).toBe("too big: 2");
    const frames = r.error!.traceback.slice(1);
    expect(frames[0]).toMatch(/at inner \(cell\[\d+\]:2:20\)/);
    expect(frames[1]).toMatch(/cell\[\d+\]:4:1/);
    expect(frames.join("\n")).not.toMatch(/node:|dist\/kernel|internal/);
  });

  it("maps lines after type-only lines and multi-line statements", async () => {
    const r = await k.client.execute("interface Unused {\n  a: number;\n}\nconst o = {\n  v: 1,\n};\nthrow new Error('line 7');");
    expect(r.error!.traceback[1]).toMatch(/cell\[\d+\]:7:7/);
  });

  it("shows the cause chain of an error", async () => {
    const r = await k.client.execute('const low = new Error("disk full");\nthrow new Error("save failed", { cause: low });');
    const text = r.error!.traceback.join("\n");
    expect(text).toMatch(/^Error: save failed\n\s+at cell\[\d+\]:2:7/);
    expect(text).toMatch(/Caused by: Error: disk full\n\s+at cell\[\d+\]:1:13/);
  });

  it("reports thrown non-errors", async () => {
    const r = await k.client.execute('throw { code: 42 };');
    expect(r.error!.ename).toBe("Uncaught");
    expect(r.error!.evalue).toBe("{ code: 42 }");
  });

  it("reports errors nobody catches (a rejected promise, a throwing timer) on stderr and keeps going", async () => {
    const r = await k.client.execute(
      'Promise.reject(new Error("nobody awaits me"));\nsetTimeout(() => { throw new TypeError("timer broke"); }, 0);\nawait new Promise((r) => setTimeout(r, 100));\n"done"',
    );
    expect(r.reply.content.status).toBe("ok");
    expect(r.result!.data["text/plain"]).toBe("'done'");
    expect(r.stderr).toContain("Uncaught Error: nobody awaits me");
    expect(r.stderr).toContain("Uncaught TypeError: timer broke");
    expect(r.stderr).toMatch(/at cell\[\d+\]:1:16/);
    expect((await k.client.execute("1 + 1")).result!.data["text/plain"]).toBe("2");
  });

  it("keeps the session working after an error", async () => {
    await k.client.execute("let survivor = 1;");
    await k.client.execute('survivor = 2; (JSON.parse("null") as any).boom;');
    expect(plain(await k.client.execute("survivor"))).toBe("2");
  });
});
