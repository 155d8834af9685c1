/**
 * The %pool magics through the real kernel over zeromq: capture of every kind of binding, the
 * live per-worker display, results/`_`/--out, errors, `%%pool run` state, the `pool` global,
 * typos, and the timing magics.
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";
import { plain, type ExecuteResult } from "../helpers/kernel-client.js";

const s = useKernel({}, async ({ ok }) => {
  await ok("%pool start 2");
});
const { ok, fails } = s;
/** The final state of the cell's live map display. */
function finalDisplay(r: ExecuteResult): Record<string, any> {
  const id = r.displays.find((d) => d.header.msg_type === "display_data" && String(d.content.data["text/plain"]).startsWith("%%pool"))
    ?.content.transient.display_id;
  expect(id).toBeTruthy();
  const same = r.displays.filter((d) => d.content.transient?.display_id === id);
  return same[same.length - 1].content.data;
}

describe("%pool start and status", () => {
  it("shows the workers and one status row per worker", async () => {
    const r = await ok("%pool status");
    const text = r.displays[0].content.data["text/plain"] as string;
    expect(text).toMatch(/^pool: 2 process workers/);
    expect(text).toMatch(/worker 0\s+\d+\s+idle/);
    expect(text).toMatch(/worker 1\s+\d+\s+idle/);
    expect(r.displays[0].content.data["text/html"]).toContain("<table");
  });
});

describe("capture of earlier cells' definitions", () => {
  it("ships const data, functions, classes and imports (node:crypto) to the workers", async () => {
    await ok("const factor: number = 3\nconst table = { a: 1, b: 2 }");
    await ok("function scale(x: number): number { return x * factor }");
    await ok("class Box { constructor(public v: number) {} twice() { return new Box(scale(this.v) * 2) } }");
    await ok("import { createHash } from 'node:crypto'");
    const r = await ok(
      "%%pool map ['a', 'b', 'a']\n(s: string) => [createHash('sha256').update(s).digest('hex').slice(0, 12), new Box(table[s as 'a' | 'b']).twice().v, process.pid]",
    );
    const values = JSON.parse(JSON.stringify(await resultValue("_")));
    const { createHash } = await import("node:crypto");
    const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);
    expect(values.map((v: unknown[]) => v.slice(0, 2))).toEqual([[hash("a"), 6], [hash("b"), 12], [hash("a"), 6]]);
    // the work really ran in the workers, not in the kernel
    const kernelPid = Number(plain(await ok("process.pid")));
    expect(values.every((v: number[]) => v[2] !== kernelPid)).toBe(true);
    expect(plain(r)).toContain(hash("b"));
  });

  it("ships instances of notebook classes with their methods, following later changes", async () => {
    await ok("class Model { constructor(public w: number) {} predict(x: number) { return x * this.w } }\nconst model = new Model(3)");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => model.predict(x)"))).toBe("[ 3, 6 ]");
    await ok("model.w = 5");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => model.predict(x)"))).toBe("[ 5, 10 ]");
  });

  it("snapshots data when the cell runs, so later changes need a new run", async () => {
    await ok("let threshold = 10");
    expect(plain(await ok("%%pool map [5, 15]\n(x: number) => x > threshold"))).toBe("[ false, true ]");
    await ok("threshold = 1");
    expect(plain(await ok("%%pool map [5, 15]\n(x: number) => x > threshold"))).toBe("[ true, true ]");
  });

  it("takes the body's function in every form: expression, earlier function's name, trailing declaration", async () => {
    expect(plain(await ok("%%pool map [1, 2]\nscale"))).toBe("[ 3, 6 ]");
    expect(plain(await ok("%%pool map [1, 2]\nconst offset = 100\nfunction shifted(x: number) { return x + offset }"))).toBe("[ 101, 102 ]");
    expect(plain(await ok("%%pool starmap [[1, 2], [3, 4]]\n(a: number, b: number) => a * b"))).toBe("[ 2, 12 ]");
    const un = await ok("%%pool map [3, 1, 2] --unordered --chunksize 1\n(x: number) => x");
    expect(JSON.parse(JSON.stringify(await resultValue("_"))).sort()).toEqual([1, 2, 3]);
    expect(plain(un)).toMatch(/^\[ \d, \d, \d \]$/);
  });

  it("lets mapped functions use the farm's synchronisation primitives imported in a cell", async () => {
    await ok("import { Value, Lock } from 'tspool'\nconst hits = new Value('i32', 0)\nconst hitsLock = new Lock()");
    const r = await ok("%%pool map Array.from({ length: 40 }, (_, i) => i) --chunksize 4\nasync (x: number) => { await hitsLock.withLock(async () => hits.set((await hits.get()) + 1)); return x }");
    expect(plain(r)).toContain("39");
    expect(plain(await ok("hits.value"))).toBe("40");
  });

  it("names a binding that cannot travel and says why", async () => {
    await ok("import net from 'node:net'\nconst conn = { socket: new net.Socket() }");
    const e = await fails("%%pool map [1]\n(x: number) => conn.socket.remotePort ?? x");
    expect(e.ename).toBe("CaptureError");
    expect(e.evalue).toContain("`conn` cannot travel to the workers");
    expect(e.evalue).toContain(".socket is a live handle (Socket)");
  });
});

async function resultValue(expr: string): Promise<unknown> {
  const r = await ok(`console.log(JSON.stringify(${expr}))`);
  return JSON.parse(r.stdout);
}

describe("results", () => {
  it("are the execute_result, `_`, and a typed binding with --out", async () => {
    const r = await ok("%%pool map [1, 2, 3] --out squares\n(x: number) => ({ n: x, sq: x * x })");
    expect(plain(r)).toContain("sq: 9");
    expect(plain(await ok("_.length"))).toBe("3");
    expect(plain(await ok("squares.map((s) => s.sq).join(',')"))).toBe("'1,4,9'");
    // the binding has the mapped function's return type: a wrong use is a type error
    const e = await fails("const wrong: string = squares[0].sq");
    expect(e.evalue + e.traceback.join("\n")).toMatch(/number.*string|string.*number/);
  });

  it("--out refuses `_`, the kernel's own globals, built-ins and reserved words, saying why, and `_` keeps following results", async () => {
    const underscore = await fails("%%pool map [1, 2] --out _\n(x: number) => x");
    expect(underscore.ename).toBe("UsageError");
    expect(underscore.evalue).toContain("`--out _`: `_` always holds the value of the last cell that had one");
    expect(underscore.evalue).toContain("use e.g. `--out results`");
    expect(plain(await ok("'str'"))).toBe("'str'");
    expect(plain(await ok("_.toUpperCase()"))).toBe("'STR'");
    const poolOut = await fails("%%pool map [1] --out pool\n(x: number) => x");
    expect(poolOut.evalue).toMatch(/`--out pool`: `pool` is the notebook's worker pool .*would replace it for every later cell; use another name/);
    expect((await fails("%%pool run --out display\n1")).evalue).toMatch(/`--out display`: `display` is the kernel's function that shows rich output/);
    expect((await fails("%%pool map [1] --out class\n(x: number) => x")).evalue).toMatch(/`class` is a reserved word of TypeScript/);
    const builtIn = await fails("%%pool map [1] --out Math\n(x: number) => x");
    expect(builtIn.evalue).toMatch(/`--out Math`: `Math` is already a global of the kernel that no cell declared/);
    expect(plain(await ok("Math.max(1, 2)"))).toBe("2");
    expect(plain(await ok("typeof pool.map"))).toBe("'function'");
  });

  it("--unordered gives the results in the order their tasks finished, for map and starmap alike", async () => {
    // Item 0 keeps its worker busy; the other worker finishes item 1 long before.
    const slow = "(x: number) => { const t = Date.now(); while (x === 0 && Date.now() - t < 1500); return x }";
    const mapped: number[] = JSON.parse(plain(await ok(`%%pool map [0, 1, 2, 3, 4] --unordered --chunksize 1\n${slow}`)).replace(/\s/g, ""));
    expect([...mapped].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(mapped.indexOf(0)).toBeGreaterThan(mapped.indexOf(1));
    const starred: number[] = JSON.parse(
      plain(await ok("%%pool starmap [[0, 0], [1, 0], [2, 0]] --unordered --chunksize 1 --out starred\n(x: number, y: number) => { const t = Date.now(); while (x === 0 && Date.now() - t < 1500); return x + y }")).replace(/\s/g, ""),
    );
    expect([...starred].sort()).toEqual([0, 1, 2]);
    expect(starred.indexOf(0)).toBeGreaterThan(starred.indexOf(1));
    expect(plain(await ok("starred.length"))).toBe("3");
    // The error of an unordered starmap shows the function's own frame only.
    const e = await fails("%%pool starmap [[0, 1], [1, 2]] --unordered --chunksize 1\n(a: number, b: number) => {\n  if (a === 1) throw new RangeError('bad pair ' + b)\n  return a + b\n}");
    expect(e.ename).toBe("RangeError");
    expect(e.traceback.filter((l: string) => /^\s+at /.test(l))).toEqual([expect.stringMatching(/^ {4}at cell\[\d+\]:3:22$/)]);
  });

  it("%%pool run --out is typed from the body's last expression", async () => {
    expect(plain(await ok("%%pool run --out runPids\nprocess.pid"))).toMatch(/^\[ \d+, \d+ \]$/);
    expect(plain(await ok("runPids[0] > 0"))).toBe("true");
    const e = await fails("const pidText: string = runPids[0]");
    expect(e.evalue).toMatch(/Type 'number' is not assignable to type 'string'/);
    await ok("%%pool run --out described\nconst d = { pid: process.pid, tag: 'w' }\nd");
    expect((await fails("described[0].tag.toFixed(1)")).evalue).toMatch(/Property 'toFixed' does not exist on type 'string'/);
  });
});

describe("live per-worker display", () => {
  it("labels every worker line, shows a panel per worker, and ends with a summary", async () => {
    const r = await ok(
      "%%pool map [0, 1, 2, 3, 4, 5] --chunksize 1 --timeline\nasync (x: number) => { console.log(`item ${x} start`); await new Promise((res) => setTimeout(res, 40)); console.error(`item ${x} end`); return x }",
    );
    expect(plain(r)).toBe("[ 0, 1, 2, 3, 4, 5 ]");
    expect(r.stdout).toBe(""); // worker output goes into the display, labelled, not loose into the cell
    const data = finalDisplay(r);
    const text = data["text/plain"] as string;
    expect(text).toMatch(/^%%pool map done: 6\/6 items in .* on 2 workers/);
    expect(text).toMatch(/worker 0 \(pid \d+\): \d items in \d tasks?, busy/);
    expect(text).toMatch(/summed task time .* \/ wall time .* = speedup [\d.]+x/);
    for (let i = 0; i < 6; i++) {
      const start = text.match(new RegExp(`^\\[worker (\\d)\\] item ${i} start$`, "gm"));
      const end = text.match(new RegExp(`^\\[worker (\\d)\\] \\(stderr\\) item ${i} end$`, "gm"));
      expect(start).toHaveLength(1);
      expect(end).toHaveLength(1);
      expect(start![0].slice(0, 10)).toBe(end![0].slice(0, 10)); // same worker printed both
    }
    expect(new Set(text.match(/^\[worker \d\]/gm))).toEqual(new Set(["[worker 0]", "[worker 1]"]));
    const html = data["text/html"] as string;
    expect(html.match(/class="tspool-worker"/g)).toHaveLength(2);
    // updates in place (one display_data, then update_display_data for the same id); as the display
    // is the cell's only output, the final state comes as clear_output (wait) and a fresh display_data
    // with the same id, for frontends that ignore updates (jupyter console)
    const id = r.displays.find((d) => d.header.msg_type === "display_data")!.content.transient.display_id;
    const kinds = r.displays
      .filter((d) => d.content.transient?.display_id === id || d.header.msg_type === "clear_output")
      .map((d) => d.header.msg_type);
    expect(kinds[0]).toBe("display_data");
    expect(kinds.slice(1, -2).every((t) => t === "update_display_data")).toBe(true);
    expect(kinds.slice(-2)).toEqual(["clear_output", "display_data"]);
    expect(r.displays.find((d) => d.header.msg_type === "clear_output")!.content.wait).toBe(true);
    const timeline = r.displays.find((d) => d.content.data?.["application/vnd.vegalite.v5+json"]);
    expect(timeline).toBeTruthy();
    expect(timeline!.content.data["image/svg+xml"]).toMatch(/^<svg[\s\S]*<rect[\s\S]*<\/svg>$/);
    expect(timeline!.content.data["application/vnd.vegalite.v5+json"].data.values).toHaveLength(6);
  });

  it("updates in place without clearing when the cell printed output of its own", async () => {
    const r = await ok("%%pool map (console.log('items ready'), [1, 2])\n(x: number) => { console.log('mapping', x); return -x }");
    expect(plain(r)).toBe("[ -1, -2 ]");
    expect(r.stdout).toBe("items ready\n");
    // clearing would erase the line above; the summary replaces the live display in place
    expect(r.displays.some((d) => d.header.msg_type === "clear_output")).toBe(false);
    const same = r.displays.filter((d) => d.content.transient?.display_id);
    expect(same.map((d) => d.header.msg_type).slice(1).every((t) => t === "update_display_data")).toBe(true);
    expect(finalDisplay(r)["text/plain"]).toMatch(/^%%pool map done: 2\/2 items[\s\S]*\[worker \d\] mapping 2$/m);
  });

  it("does not clear output written straight to the kernel's stdout/stderr either (child processes that inherit it, fd writes)", async () => {
    const cleared = (r: ExecuteResult) => r.displays.some((d) => d.header.msg_type === "clear_output");
    const inItems = await ok("%%pool map (require('node:child_process').execSync('echo from-iterable', { stdio: 'inherit' }), [1, 2])\n(x: number) => x");
    expect(inItems.stdout).toBe("from-iterable\n");
    expect(cleared(inItems)).toBe(false);
    const inBody = await ok("%%pool map [1, 2]\nrequire('node:child_process').spawnSync('sh', ['-c', 'echo from-body >&2'], { stdio: ['ignore', 'pipe', 'inherit'] })\n;(x: number) => x");
    expect(inBody.stderr).toBe("from-body\n");
    expect(cleared(inBody)).toBe(false);
    await ok("import { writeSync } from 'node:fs'");
    const fd = await ok("%%pool map (writeSync(1, 'fd write\\n'), [1])\n(x: number) => x");
    expect(fd.stdout).toBe("fd write\n");
    expect(cleared(fd)).toBe(false);
    // An asynchronous child that inherits stderr, awaited in the items.
    const forked = await ok("%%pool map await new Promise((done) => require('node:child_process').spawn('sh', ['-c', 'echo spawned >&2'], { stdio: 'inherit' }).on('exit', () => done([1])))\n(x: number) => x");
    expect(forked.stderr).toBe("spawned\n");
    expect(cleared(forked)).toBe(false);
    // A child whose output the cell keeps to itself leaves nothing to protect: the display is re-shown alone.
    const piped = await ok("%%pool map (require('node:child_process').execSync('echo kept'), [1, 2])\n(x: number) => x");
    expect(piped.stdout).toBe("");
    expect(cleared(piped)).toBe(true);
  });

  it("never lets worker output land under a later cell", async () => {
    await ok("%%pool map [1, 2]\n(x: number) => { console.log('from map', x); return x }");
    const later = await ok("1 + 1");
    expect(JSON.stringify(later.iopub)).not.toContain("from map");
  });
});

describe("errors", () => {
  it("names the worker, the item and the original error, with the stack on the cell's lines", async () => {
    const e = await fails(
      "%%pool map [1, 2, 3, 4] --chunksize 1\n(x: number) => {\n  console.log('working on', x)\n  if (x === 3)\n    throw new RangeError(`bad item ${x}`)\n  return x\n}",
    );
    expect(e.ename).toBe("RangeError");
    expect(e.evalue).toMatch(/^bad item 3 \(worker \d, item 2\)$/);
    const tb = e.traceback.join("\n");
    expect(tb).toMatch(/raised in worker \d, item 2/);
    expect(tb).toMatch(/cell\[\d+\]:5:\d+/); // the `throw` is on line 5 of the cell
  });

  it("maps a frame in a function of an earlier cell to that cell's line and column", async () => {
    const def = await ok("function checkItem(x: number) {\n  if (x === 5)\n    throw new RangeError(`bad item ${x}`)\n  return x\n}");
    const defCell = def.reply.content.execution_count;
    const e = await fails("%%pool map [4, 5] --chunksize 1\n// a comment line\n(x: number) => checkItem(x) * 2");
    expect(e.evalue).toMatch(/^bad item 5 \(worker \d, item 1\)$/);
    const frames = e.traceback.filter((l: string) => /^\s+at /.test(l));
    // the same position the kernel gives when the function throws in a cell
    const inKernel = await fails("checkItem(5)");
    const kernelFrame = inKernel.traceback.join("\n").match(/at checkItem \((cell\[\d+\]:\d+:\d+)\)/)![1];
    expect(kernelFrame).toBe(`cell[${defCell}]:3:11`);
    expect(frames[0]).toBe(`    at checkItem (${kernelFrame})`);
    expect(frames[1]).toMatch(/^\s+at cell\[\d+\]:3:16$/);
    // %%pool run too, although the workers already have checkItem from the map above
    const run = await fails("%%pool run --targets 0\ncheckItem(5)");
    expect(run.traceback).toContain(`    at checkItem (${kernelFrame})`);
  });

  it("maps the frames of a const arrow helper of an earlier cell to that cell, apart from the map function's own", async () => {
    const def = await ok("const arrowHelper = (x: number) => {\n  if (x > 1) throw new RangeError('big ' + x)\n  return x\n}");
    const defCell = def.reply.content.execution_count;
    // the kernel's own frame for the same throw
    const inKernel = (await fails("arrowHelper(5)")).traceback.join("\n");
    const kernelFrame = inKernel.match(/at arrowHelper \((cell\[\d+\]:\d+:\d+)\)/)![1];
    expect(kernelFrame).toBe(`cell[${defCell}]:2:20`);
    const framesOf = (e: Record<string, any>) => e.traceback.filter((l: string) => /^\s+at /.test(l));
    // The map function written on the magic's line, then on a line of its own.
    const oneLine = await s.kernel.client.execute("%%pool map [1, 2] --chunksize 1\n(x: number) => arrowHelper(x)");
    expect(oneLine.error!.ename).toBe("RangeError");
    expect(framesOf(oneLine.error!)).toEqual([`    at arrowHelper (${kernelFrame})`, `    at cell[${oneLine.reply.content.execution_count}]:2:16`]);
    const twoLines = await s.kernel.client.execute("%%pool map [1, 2] --chunksize 1\n(x: number) =>\n  arrowHelper(x) + 1");
    expect(framesOf(twoLines.error!)).toEqual([`    at arrowHelper (${kernelFrame})`, `    at cell[${twoLines.reply.content.execution_count}]:3:3`]);
    // through a function declared in another cell, and a namespace's function
    const via = await ok("function viaDeclared(x: number) {\n  return arrowHelper(x)\n}\nnamespace Deep {\n  export function go(x: number) {\n    return viaDeclared(x * 10)\n  }\n}");
    const viaCell = via.reply.content.execution_count;
    const nested = await s.kernel.client.execute("%%pool map [1]\n(x: number) => Deep.go(x)");
    expect(framesOf(nested.error!)).toEqual([
      `    at arrowHelper (${kernelFrame})`,
      `    at viaDeclared (cell[${viaCell}]:2:10)`,
      `    at Object.go (cell[${viaCell}]:6:12)`,
      `    at cell[${nested.reply.content.execution_count}]:2:21`,
    ]);
    // %%pool run calls it at its own line
    const run = await s.kernel.client.execute("%%pool run --targets 0\n\narrowHelper(3)");
    expect(framesOf(run.error!)).toEqual([`    at arrowHelper (${kernelFrame})`, `    at cell[${run.reply.content.execution_count}]:3:1`]);
  });

  it("shows a task error of the pool object in a plain cell as the original error, with frames in cell terms", async () => {
    const def = await ok("const poolHelper = (x: number) => {\n  if (x > 1) throw new TypeError('too big ' + x)\n  return x\n}");
    const helperFrame = `    at poolHelper (cell[${def.reply.content.execution_count}]:2:20)`;
    const r = await s.kernel.client.execute("await pool.map((x: number) => poolHelper(x), [1, 2], { chunksize: 1 })");
    const e = r.error!;
    expect(e.ename).toBe("TypeError");
    expect(e.evalue).toMatch(/^too big 2 \(worker \d, item 1\)$/);
    const tb = e.traceback.join("\n");
    expect(tb).toMatch(/raised in worker \d, item 1/);
    expect(e.traceback.filter((l: string) => /^\s+at /.test(l))).toEqual([helperFrame, `    at cell[${r.reply.content.execution_count}]:1:31`]);
    // a function passed by name, and a function of the calling cell itself
    const byName = await fails("await pool.map(poolHelper, [2])");
    expect(byName.ename).toBe("TypeError");
    expect(byName.traceback.filter((l: string) => /^\s+at /.test(l))).toEqual([helperFrame]);
    const later = await fails("const handle = pool.applyAsync(poolHelper, [4])\nawait handle");
    expect(later.ename).toBe("TypeError");
    expect(later.traceback.filter((l: string) => /^\s+at /.test(l))).toEqual([helperFrame]);
    const local = await s.kernel.client.execute("const localFn = (x: number) => {\n  return poolHelper(x)\n}\nawait pool.apply(localFn, [3])");
    expect(local.error!.ename).toBe("TypeError");
    expect(local.error!.traceback.filter((l: string) => /^\s+at /.test(l))).toEqual([helperFrame, `    at localFn (cell[${local.reply.content.execution_count}]:2:10)`]);
    // A cell that catches it gets the pool's RemoteError, whose worker stack is in cell terms too.
    const caught = await ok("let workerStack = ''\ntry { await pool.map((x: number) => poolHelper(x), [5]) } catch (err: any) { workerStack = `${err.name} ${err.remoteName} ${err.remoteStack}` }\nworkerStack");
    expect(plain(caught)).toContain("RemoteError TypeError TypeError: too big 5");
    expect(plain(caught)).toContain(helperFrame.trim());
    expect(plain(caught)).toContain(`at cell[${caught.reply.content.execution_count}]:2:37`);
    expect(plain(caught)).not.toMatch(/pool\.map:|tspool-/);
  });

  it("shows no frames of tspool's own code when a task misuses a tspool primitive", async () => {
    await ok('import { Value as SharedValue } from "tspool"\nconst hits = new SharedValue("i32", 0)');
    const e = await fails("%%pool map [1]\n(i: number) =>\n  hits.value + i");
    expect(e.ename).toBe("SyncUsageError");
    expect(e.evalue).toMatch(/use await value\.get\(\)/);
    const frames = e.traceback.filter((l: string) => /^\s+at /.test(l));
    expect(frames).toEqual([expect.stringMatching(/^\s+at cell\[\d+\]:3:8$/)]);
  });

  it("keeps the other workers' output visible and the pool usable", async () => {
    const r = await s.kernel.client.execute(
      "%%pool map [0, 1, 2, 3] --chunksize 1\nasync (x: number) => { console.log('ran', x); await new Promise((res) => setTimeout(res, 30)); if (x === 3) throw new Error('late failure'); return x }",
    );
    expect(r.reply.content.status).toBe("error");
    const text = finalDisplay(r)["text/plain"] as string;
    expect(text).toMatch(/stopped after/);
    expect(text).toMatch(/^\[worker \d\] ran 0$/m);
    expect(text).toMatch(/^\[worker \d\] ran 1$/m);
    expect(plain(await ok("%%pool map [2, 3]\n(x: number) => x * 10"))).toBe("[ 20, 30 ]");
  });

  it("reports a type error in the body against earlier cells, before running anything", async () => {
    const e = await fails("%%pool map [1, 2]\n(x: number) => scale(x).toUpperCase()");
    expect(e.evalue + e.traceback.join("\n")).toMatch(/toUpperCase/);
  });

  it("types the body's function from the ITERABLE's items: unannotated parameters get the item type, wrong ones are refused", async () => {
    // Parameters typed from a Set, objects, a generator and a Map's entries; --out gets the result type.
    expect(plain(await ok("%%pool map new Set(['a', 'bb']) --out lens\n(w) => w.length"))).toBe("[ 1, 2 ]");
    await ok("const total: number = lens.reduce((a, b) => a + b, 0)");
    expect(plain(await ok("%%pool map [{ id: 1, when: new Date(2020, 0, 5) }]\nconst base = 1; (o) => o.when.getDate() + base"))).toBe("[ 6 ]");
    expect(plain(await ok("function* upTo(n: number) { for (let i = 1; i <= n; i++) yield i }"))).toBeUndefined();
    expect(plain(await ok("%%pool map upTo(3)\nconst cube = (x) => x ** 3"))).toBe("[ 1, 8, 27 ]");
    expect(plain(await ok("%%pool map new Map([['a', 1]])\n([k, v]) => k.repeat(v + 1)"))).toBe("[ 'aa' ]");
    // Items of type any stay unchecked; starmap accepts mixed argument lists.
    expect(plain(await ok("%%pool map JSON.parse('[1, 2]')\n(x) => x * 2"))).toBe("[ 2, 4 ]");
    expect(plain(await ok("%%pool starmap [[2, 'ab'], [1, 'c']]\n(n: number, s: string) => s.repeat(n)"))).toBe("[ 'abab', 'c' ]");

    // A function that does not fit the items is refused before anything runs, at its own line.
    const wrong = await s.kernel.client.execute("%%pool map [1, 2]\n// numbers in, strings expected\n(x: string) => x.toUpperCase()");
    expect(wrong.reply.content.status).toBe("error");
    expect(wrong.displays).toHaveLength(0);
    expect(wrong.error!.traceback.join("\n")).toMatch(/cell line 3:1 - error TS2345: The function does not fit the items of `\[1, 2\]` \(it is called with one item at a time\):\n.*'\(x: string\) => string'.*'\(item: number\) => unknown'/);
    const declared = await fails("%%pool map [{ id: 1 }]\nconst k = 2\nfunction score(o: { id: string }) { return o.id }");
    expect(declared.traceback.join("\n")).toMatch(/cell line 3:10 - error TS2345[^]*3 \| function score/);
    expect((await fails("%%pool map ['a']\nfunction sq(x: number) { return x * x }\nsq")).traceback.join("\n")).toMatch(/cell line 3:1 - error TS2345/);
    const arity = await fails("%%pool map [1, 2]\n(x: number, i: number) => x + i");
    expect(arity.traceback.join("\n")).toMatch(/provides too few arguments/);
    const tuple = await fails("%%pool starmap [[1, 2]] as [number, number][]\n(a: string, b: number) => a");
    expect(tuple.traceback.join("\n")).toMatch(/Type 'number' is not assignable to type 'string'/);
    // With --out too, errors point at the body as written.
    const out = await fails("%%pool map [1] --out never\n(x: number) => nosuch");
    expect(out.traceback.join("\n")).toContain("cell line 2:16 - error TS2304: Cannot find name 'nosuch'.");
    expect(out.traceback.join("\n")).not.toContain("__tspool");
  });

  it("says what is wrong when the body is not a function or the ITERABLE is not iterable", async () => {
    const a = await fails("%%pool map [1, 2]\n42");
    expect(a.ename).toBe("UsageError");
    expect(a.evalue).toMatch(/must evaluate to a function.*a number/);
    const b = await fails("%%pool map 7\n(x: number) => x");
    expect(b.evalue).toMatch(/evaluated to a number; give an array or another iterable/);
  });
});

describe("%%pool run", () => {
  it("runs on every worker, keeps worker state for later cells, and targets workers", async () => {
    const first = await ok("%%pool run\nlet counter = 0\nglobalThis.pidSeen = process.pid\ncounter");
    expect(plain(first)).toBe("[ 0, 0 ]");
    expect(plain(await ok("%%pool run\ncounter += 1\ncounter"))).toBe("[ 1, 1 ]");
    expect(plain(await ok("%%pool run --targets 1 --out last\ncounter += 10"))).toBe("[ 11 ]");
    expect(plain(await ok("%pool pull counter"))).toBe("[ 1, 11 ]");
    expect(plain(await ok("last[0]"))).toBe("11");
    const pids = await ok("%%pool run\nprocess.pid === globalThis.pidSeen");
    expect(plain(pids)).toBe("[ true, true ]");
    const e = await fails("%%pool run --targets 5\n1");
    expect(e.evalue).toMatch(/worker 5 does not exist/);
  });

  it("awaits a body that uses await", async () => {
    expect(plain(await ok("%%pool run\nawait new Promise((res) => setTimeout(res, 20))\ncounter * 100"))).toBe("[ 100, 1100 ]");
  });

  it("uses earlier cells' definitions and prints labelled lines", async () => {
    const r = await ok("%%pool run\nconsole.log('scaled', scale(2))");
    expect(r.stdout).toMatch(/^\[worker 0\] scaled 6$/m);
    expect(r.stdout).toMatch(/^\[worker 1\] scaled 6$/m);
  });

  it("defines functions and classes with a body that ends with their declaration (its value is undefined, as in a cell)", async () => {
    const declarations = [
      "function wf() { return 1 }",
      "async function awf() { return 2 }",
      "function* wgen() { yield 3 }",
      "class WClass { v = 4 }",
    ];
    for (const body of declarations) {
      const r = await ok(`%%pool run\n${body}`);
      expect(r.result).toBeUndefined();
    }
    await ok("%%pool run --out declaredOut\nfunction wf2() { return 5 }");
    expect(plain(await ok("declaredOut"))).toBe("[ undefined, undefined ]");
    const used = await ok("%%pool run\nconst g = wgen(); [wf(), await awf(), g.next().value, new WClass().v, wf2()]");
    expect(plain(used)).toBe("[ [ 1, 2, 3, 4, 5 ], [ 1, 2, 3, 4, 5 ] ]");
  });

  it("types the names earlier run cells declared as the workers declared them, not as a kernel binding of the same name", async () => {
    await ok("let shared = 1");
    expect(plain(await ok('%%pool run\nlet shared = "on workers"\nconst fixedOnWorkers = 3\nfunction twice(x: number) { return x * 2 }\nshared.length'))).toBe("[ 10, 10 ]");
    expect(plain(await ok('%%pool run\nshared = "changed"; shared.toUpperCase()'))).toBe("[ 'CHANGED', 'CHANGED' ]");
    const wrongType = await fails("%%pool run\nshared = 5");
    expect(wrongType.ename).toBe("TSError");
    expect(wrongType.evalue).toBe("2:1 Type 'number' is not assignable to type 'string'.");
    expect((await fails("%%pool run\nfixedOnWorkers = 4")).evalue).toMatch(/^2:1 Cannot assign to 'fixedOnWorkers' because it is a constant/);
    expect((await fails('%%pool run\ntwice("x")')).evalue).toMatch(/^2:7 Argument of type 'string' is not assignable to parameter of type 'number'/);
    // --out and map bodies see the workers' type too; the kernel's `shared` keeps its own
    await ok("%%pool run --out sharedOut\nshared");
    expect(plain(await ok("sharedOut[0].toUpperCase()"))).toBe("'CHANGED'");
    expect((await fails("%%pool map [1]\n(x: number) => shared.toFixed(x)")).evalue).toMatch(/Property 'toFixed' does not exist on type 'string'/);
    expect(plain(await ok("shared + 1"))).toBe("2");
  });

  it("maps a failing run cell's stack to its line and names the worker", async () => {
    const e = await fails("%%pool run --targets 0\nconst v: number = 1\nif (v) throw new Error('run failed')");
    expect(e.evalue).toBe("run failed (worker 0)");
    expect(e.traceback.join("\n")).toMatch(/cell\[\d+\]:3:\d+/);
  });

  it("leaves names on the workers that a later %%pool map body uses directly, and the worker's value wins over the kernel's", async () => {
    await ok("%%pool run\nconst lookup = new Map([[1, 'one'], [2, 'two']])\nconst offsetOnWorker = 1000 + Number(process.env.TSPOOL_WORKER_ID) * 0");
    await ok("const offsetOnWorker = 5"); // a kernel value of the same name does not replace the workers'
    const r = await ok("%%pool map [1, 2, 1] --chunksize 1\n(k: number) => `${lookup.get(k)}:${offsetOnWorker + k}`");
    expect(plain(r)).toBe("[ 'one:1001', 'two:1002', 'one:1001' ]");
    // A type error in such a body still points at the body's own line and column.
    const e = await fails("%%pool map [1]\n(k: number) => {\n  const n: number = 'x'\n  return lookup.get(k)\n}");
    expect(e.ename).toBe("TSError");
    expect(e.evalue).toMatch(/^3:9 /);
  });
});

describe("%pool push", () => {
  it("copies values and functions (with what they use) to every worker", async () => {
    await ok("const settings = { level: 7 }\nfunction describeLevel() { return `level ${settings.level} x${factor}` }");
    const r = await ok("%pool push settings describeLevel");
    expect(r.stdout).toMatch(/Pushed settings, describeLevel to 2 workers \(with what they use: factor\)/);
    expect(plain(await ok("%%pool run\ndescribeLevel()"))).toBe("[ 'level 7 x3', 'level 7 x3' ]");
  });
});

describe("the pool global", () => {
  it("maps with the same capture and routes worker lines to the calling cell, labelled", async () => {
    const r = await ok("await pool.map((x: number) => { console.log('lib', x); return scale(x) }, [1, 2, 3])");
    expect(plain(r)).toBe("[ 3, 6, 9 ]");
    for (const x of [1, 2, 3]) expect(r.stdout).toMatch(new RegExp(`^\\[worker \\d\\] lib ${x}$`, "m"));
    expect(plain(await ok("(await pool.run(() => typeof factor)).join(',')"))).toBe("'number,number'");
    expect(plain(await ok("await pool.apply((a: number, b: number) => a + b, [2, 3])"))).toBe("5");
    expect(plain(await ok("const seen: number[] = []\nfor await (const v of pool.imap((x: number) => scale(x), [1, 2, 3])) seen.push(v)\nseen"))).toBe("[ 3, 6, 9 ]");
    const bad = await fails("await pool.map((x: number) => conn.socket.remotePort ?? x, [1])");
    expect(bad.ename).toBe("CaptureError");
  });

  it("keeps an imap the cell stopped reading apart from a later cell's map and %%pool map", async () => {
    // The first cell reads one result and leaves the iterator open; its other tasks go on running
    // while the next cells run theirs. Each cell gets exactly its own worker lines.
    const first = await ok(
      "const left = pool.imap((x: number) => { const end = Date.now() + 120; while (Date.now() < end); console.log('imap item', x); return x }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { chunksize: 1 });\n" +
      "(await left.next()).value",
    );
    expect(plain(first)).toBe("1");
    expect(first.stdout).toMatch(/^\[worker \d\] imap item 1$/m);
    const later = await ok("await pool.map((x: number) => { console.log('map item', x); return x * 2 }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { chunksize: 1 })");
    expect(plain(later)).toBe("[\n   2,  4,  6,  8, 10,\n  12, 14, 16, 18, 20\n]");
    expect(later.stdout.match(/^\[worker \d\] map item \d+$/gm)).toHaveLength(10);
    expect(later.stdout).not.toContain("imap item");
    const magic = await ok("%%pool map [1, 2, 3] --chunksize 1\n(x: number) => { console.log('magic item', x); return x }");
    const panels = String(finalDisplay(magic)["text/plain"]);
    expect(panels.match(/magic item \d/g)).toHaveLength(3);
    expect(panels).not.toContain("imap item");
    // Reading the rest later still works.
    expect(plain(await ok("let rest = 0\nfor await (const _ of left) rest++\nrest"))).toBe("9");
  });
});

describe("instances of notebook classes", () => {
  it("keep their class as items, inside items, in captured data and as results, both ways", async () => {
    await ok("class Particle { constructor(public x: number, public v: number) {} step(dt: number) { return new Particle(this.x + this.v * dt, this.v) } energy() { return this.v * this.v / 2 } }");
    await ok("class Charged extends Particle { constructor(x: number, v: number, public q: number) { super(x, v) } energy() { return super.energy() + this.q } }");
    await ok("const swarm = [new Particle(0, 1), new Charged(0, 2, 10)];\nconst world = { gravity: new Particle(0, -9.8) }");
    // Items with methods, results that are instances (a subclass too), checked in the kernel.
    const stepped = await ok("%%pool map swarm --out moved\n(p: Particle) => p.step(2)");
    expect(plain(stepped)).toBe("[ Particle { x: 2, v: 1 }, Particle { x: 4, v: 2 } ]");
    expect(plain(await ok("moved.map((p) => p instanceof Particle && p.energy())"))).toBe("[ 0.5, 2 ]");
    const kinds = await ok("%%pool map [{ label: 'a', p: new Charged(1, 1, 5) }, { label: 'b', p: new Particle(1, 3) }]\n(o: { label: string; p: Particle }) => `${o.label}:${o.p.constructor.name}:${o.p.energy()}`");
    expect(plain(kinds)).toBe("[ 'a:Charged:5.5', 'b:Particle:4.5' ]");
    // Captured data holding instances (nested) travels with its classes.
    expect(plain(await ok("%%pool map [1, 2]\n(i: number) => Math.round((swarm[i - 1].energy() + world.gravity.energy()) * 100) / 100"))).toBe("[ 48.52, 60.02 ]");
    // starmap arguments, and the pool global's map, imap and apply.
    expect(plain(await ok("%%pool starmap [[new Particle(1, 1), 3]]\n(p: Particle, dt: number) => p.step(dt).x"))).toBe("[ 4 ]");
    const lib = await ok(
      "const viaMap = await pool.map((p: Particle) => p.step(1), swarm)\n" +
      "const viaImap: Particle[] = []\nfor await (const p of pool.imap((p: Particle) => p.step(1), swarm)) viaImap.push(p)\n" +
      "const viaApply = await pool.apply((p: Particle, dt: number) => p.step(dt), [new Particle(0, 5), 2])\n" +
      "const viaAsync = await pool.applyAsync((p: Particle) => p.step(1), [new Particle(1, 1)]);\n" +
      "[viaMap[1].energy(), viaImap[0] instanceof Particle, viaApply.x, viaAsync.x, viaAsync instanceof Particle]",
    );
    expect(plain(lib)).toBe("[ 2, true, 10, 2, true ]");
    // What run (the pool global's and %%pool run's) returns from each worker keeps its class too.
    const viaRun = await ok("const starts = await pool.run((v: number) => new Particle(1, v), { args: [3] });\n[starts.length, starts.every((p) => p instanceof Particle), starts[0].step(1).x]");
    expect(plain(viaRun)).toBe("[ 2, true, 4 ]");
    await ok("%%pool run --out seeds\nconst seed = new Charged(0, 1, 2)\nseed");
    expect(plain(await ok("seeds.map((p) => `${p.constructor.name}:${p.energy()}`)"))).toBe("[ 'Charged:2.5', 'Charged:2.5' ]");
  });

  it("keep their class inside Maps (keys and values) and Sets, in items, results and captured data", async () => {
    await ok("class Cell2 { constructor(public n: number) {} twice() { return this.n * 2 } }");
    await ok("const byName = new Map<string, Cell2>([['a', new Cell2(1)], ['b', new Cell2(2)]]);\nconst keyed = new Map<Cell2, Set<Cell2>>([[new Cell2(10), new Set([new Cell2(3), new Cell2(4)])]])");
    // Captured data: a Map of instances and a Map whose keys and Set values are instances.
    const captured = await ok("%%pool map ['a', 'b']\n(k: string) => byName.get(k)!.twice() + [...keyed].map(([key, set]) => key.twice() + [...set].reduce((s, c) => s + c.twice(), 0))[0]");
    expect(plain(captured)).toBe("[ 36, 38 ]");
    // Items holding a Map, and results that are Sets and Maps of instances, checked in the kernel.
    const back = await ok("%%pool map [byName] --out grown\n(m: Map<string, Cell2>) => new Map([...m].map(([k, c]) => [k, new Set([c, new Cell2(c.twice())])]))");
    expect(plain(back)).toContain("Map(2)");
    expect(plain(await ok("[...grown[0].get('b')!].map((c) => c instanceof Cell2 && c.twice())"))).toBe("[ 4, 8 ]");
  });

  it("an error in a method names the method and the cell that defined its class", async () => {
    const gaugeSource = "class Gauge { constructor(public level: number) {} read() { if (this.level > 1) throw new RangeError(`over: ${this.level}`); return this.level } }";
    const gaugeCell = (await ok(gaugeSource)).reply.content.execution_count;
    const gaugeColumn = gaugeSource.indexOf("new RangeError") + 1;
    const e = await fails("%%pool map [new Gauge(1), new Gauge(2)] --chunksize 1\n(g: Gauge) => {\n  return g.read()\n}");
    expect(e.evalue).toContain("over: 2");
    const frames = e.traceback.join("\n");
    // the method's own line and column in the cell that defined the class
    expect(frames).toMatch(new RegExp(`at Gauge\\.read \\(cell\\[${gaugeCell}\\]:1:${gaugeColumn}\\)`));
    expect(frames).toMatch(/at cell\[\d+\]:3:12/);
    expect(frames).not.toContain("__tspool");
  });

  it("cost nothing when no notebook class is involved: plain results stay plain", async () => {
    const r = await ok("%%pool map [{ a: 1 }, { a: 2 }]\n(o: { a: number }) => ({ doubled: o.a * 2 })");
    expect(plain(r)).toBe("[ { doubled: 2 }, { doubled: 4 } ]");
  });
});

describe("dependencies are installed once", () => {
  it("does not reinstall an unchanged class on a worker, and does when it changes", async () => {
    await ok("class Noisy { static { console.log('installing Noisy v1') } static v = 1 }");
    const first = await ok("%%pool map [1, 2, 3, 4] --chunksize 1\n(x: number) => x + Noisy.v");
    const second = await ok("%%pool map [1, 2, 3, 4] --chunksize 1\n(x: number) => x * 10 + Noisy.v");
    const installs = (r: ExecuteResult) => (String(finalDisplay(r)["text/plain"]).match(/installing Noisy/g) ?? []).length;
    expect(installs(first)).toBeGreaterThanOrEqual(1);
    expect(installs(first)).toBeLessThanOrEqual(2); // once per worker that ran a task
    expect(installs(second)).toBe(0);
    await ok("class Noisy { static { console.log('installing Noisy v2') } static v = 2 }");
    const third = await ok("%%pool map [1, 2] --chunksize 1\n(x: number) => x + Noisy.v");
    expect(plain(third)).toBe("[ 3, 4 ]");
    expect(String(finalDisplay(third)["text/plain"])).toContain("installing Noisy v2");
  });
});

describe("typos and malformed magics", () => {
  it("suggest the closest valid form and keep the kernel and pool state", async () => {
    const e = await fails("%%pool mpa [1, 2]\n(x: number) => x");
    expect(e.ename).toBe("UsageError");
    expect(e.evalue).toContain("did you mean `%%pool map [1, 2]`?");
    const o = await fails("%%pool map [1] --chunksiz 2\n(x: number) => x");
    expect(o.evalue).toContain("did you mean `%%pool map [1] --chunksize 2`?");
    const s = await fails("%pool stauts");
    expect(s.evalue).toContain("did you mean `%pool status`?");
    // options with one hyphen or a dash autocorrect made of `--`
    const single = await fails("%%pool map [1,2] -chunksize 2\n(x: number) => x");
    expect(single.ename).toBe("UsageError");
    expect(single.evalue).toBe("`%%pool map`: `-chunksize` starts with one hyphen where options have two: did you mean `%%pool map [1,2] --chunksize 2`?");
    const em = await fails("%%pool map [1,2] \u2014chunksize 2\n(x: number) => x");
    expect(em.evalue).toContain("`\u2014chunksize` starts with an em dash (\u2014) where options have two ASCII hyphens (autocorrect often turns `--` into a dash): did you mean `%%pool map [1,2] --chunksize 2`?");
    expect((await fails("%%pool map [1,2] -u\n(x: number) => x")).evalue).toContain("did you mean `%%pool map [1,2] --unordered`?");
    const spaced = await fails("%%pool map [1,2] -- chunksize 2\n(x: number) => x");
    expect(spaced.ename).toBe("UsageError");
    expect(spaced.evalue).toBe("`%%pool map`: `-- chunksize` has a space after `--`, where an option's name follows its two hyphens directly: did you mean `%%pool map [1,2] --chunksize 2`?");
    expect((await fails("%%pool map [1,2] \u2013unordered\n(x: number) => x")).evalue).toContain("an en dash (\u2013)");
    expect((await fails("%pool start 2 -threads")).evalue).toContain("did you mean `%pool start 2 --threads`?");
    // minus signs in the ITERABLE stay TypeScript
    expect(plain(await ok("%%pool map [-1, -2].map((x) => x - 1)\n(x: number) => -x"))).toBe("[ 2, 3 ]");
    expect(plain(await ok("const u = 3\nconst span = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)"))).toBeUndefined();
    expect(plain(await ok("%%pool map span(-2, u -1)\n(x: number) => x * 10"))).toBe("[ -20, -10, 0, 10 ]");
    expect(plain(await ok("factor"))).toBe("3");
    expect(plain(await ok("%pool pull counter"))).toBe("[ 1, 11 ]");
  });
});

describe("%pool restart and thread workers", () => {
  it("restart gives fresh workers without state; --threads switches to thread workers and back", async () => {
    await ok("%%pool run\nglobalThis.before = 1");
    const r = await ok("%pool restart");
    expect(r.displays[0].content.data["text/plain"]).toMatch(/^Restarted with 2 fresh process workers:/);
    expect(plain(await ok("%pool pull before"))).toBe("[ undefined, undefined ]");
    const t = await ok("%pool start 2 --threads");
    expect(t.displays[0].content.data["text/plain"]).toMatch(/^Replaced the pool's 2 process workers with 2 thread workers:[^]*thread id/);
    const st = await ok("%pool status");
    expect(st.displays[0].content.data["text/plain"]).toMatch(/^pool: 2 thread workers/);
    expect(plain(await ok("%%pool map [1, 2, 3]\n(x: number) => scale(x) + factor"))).toBe("[ 6, 9, 12 ]");
    expect(plain(await ok("%%pool run\nprocess.pid === globalThis.process.pid"))).toBe("[ true, true ]");
    expect((await ok("%pool start 1")).displays[0].content.data["text/plain"]).toMatch(/^Replaced the pool's 2 thread workers with 1 process worker:/);
    expect((await ok("%pool start 2")).displays[0].content.data["text/plain"]).toMatch(/^Resized the pool from 1 to 2 process workers:/);
    expect((await ok("%pool status")).displays[0].content.data["text/plain"]).toMatch(/^pool: 2 process workers/);
    const stop = await ok("%pool stop");
    expect(stop.stdout).toMatch(/Stopped the pool's 2 workers/);
    expect(plain(await ok("%%pool map [7]\n(x: number) => x"))).toBe("[ 7 ]"); // starts again on use
  });
});

describe("timing and listing magics", () => {
  it("%time reports CPU and wall time and keeps the value; %timeit reports mean ± std", async () => {
    const t = await ok("%time scale(5)");
    expect(t.stdout).toMatch(/^CPU times: user .+, sys: .+, total: .+\nWall time: .+\n$/);
    expect(plain(t)).toBe("15");
    const ti = await ok("%timeit -n 20 -r 3 scale(5)");
    expect(ti.stdout).toMatch(/^[\d.]+ (ns|µs|ms) ± [\d.]+ (ns|µs|ms) per loop \(mean ± std\. dev\. of 3 runs, 20 loops each\)\n$/);
    const auto = await ok("%%timeit -r 2\nconst a = Array.from({ length: 2000 }, (_, i) => i)\na.reduce((s, x) => s + x, 0)");
    expect(auto.stdout).toMatch(/per loop \(mean ± std\. dev\. of 2 runs, [\d,]+ loops each\)/);
    const tc = await ok("%%time\nconst timedValue = scale(7)");
    expect(tc.stdout).toMatch(/Wall time/);
    expect(plain(await ok("timedValue"))).toBe("21");
  });

  it("%timeit reports a type error at the statement's own line and column, not in the function around it", async () => {
    const line = await fails("%timeit (1 as number).foo");
    expect(line.ename).toBe("TSError");
    expect(line.evalue).toBe("1:15 Property 'foo' does not exist on type 'number'.");
    expect(line.traceback.join("\n")).toContain("1 | (1 as number).foo");
    expect(line.traceback.join("\n")).not.toContain("=>");
    const cell = await fails("%%timeit -n 1 -r 1\nconst big = 1\nawait Promise.resolve(big).nope;");
    expect(cell.evalue).toBe("3:28 Property 'nope' does not exist on type 'Promise<number>'.");
    expect(cell.traceback.join("\n")).toContain("3 | await Promise.resolve(big).nope;");
    expect(cell.traceback.join("\n")).not.toContain("async () =>");
  });

  it("%%time above a magic times that magic (serial vs parallel in one notebook); %%timeit refuses to repeat one", async () => {
    const t = await ok("%%time\n%%pool map [1, 2, 3] --out timedSquares\n(x: number) => x * x");
    expect(t.stdout).toMatch(/CPU times: .+\nWall time: .+/);
    expect(plain(t)).toBe("[ 1, 4, 9 ]");
    expect(String(finalDisplay(t)["text/plain"])).toMatch(/done: 3\/3 items/);
    expect(plain(await ok("timedSquares.length"))).toBe("3");
    // An error in the timed magic keeps the cell's own line numbers, and the time is still shown.
    const e = await s.kernel.client.execute("%%time\n%%pool map [1]\n(x: number) => {\n  const y: number = 'no'\n  return y\n}");
    expect(e.error!.ename).toBe("TSError");
    expect(e.error!.evalue).toMatch(/^4:9 /);
    expect(e.stdout).toMatch(/Wall time/);
    const refused = await fails("%%timeit\n%%pool map [1]\n(x: number) => x");
    expect(refused.ename).toBe("UsageError");
    expect(refused.evalue).toContain("%%time");
  });

  it("%who lists earlier names by kind and %lsmagic lists the magics", async () => {
    const w = await ok("%who");
    expect(w.stdout).toMatch(/^const:\s.*\bfactor\b.*\btable\b/m);
    expect(w.stdout).toMatch(/^function:\s.*\bscale\b/m);
    expect(w.stdout).toMatch(/^class:\s+Box/m);
    expect(w.stdout).toMatch(/^import:\s.*\bcreateHash\b/m);
    expect(w.stdout).not.toContain("__tspool");
    const l = await ok("%lsmagic");
    expect(l.stdout).toContain("%pool  %lsmagic  %time  %timeit  %who");
    expect(l.stdout).toContain("%%pool  %%time  %%timeit");
  });
});
