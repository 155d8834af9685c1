/**
 * What the values a %%pool cell (or a pool.map call) uses are on the workers, through the real
 * kernel over zeromq: snapshots taken when the cell runs, the same for every worker, also one that
 * replaces a worker during the call, and fresh for each call whatever earlier tasks did to them,
 * while data a worker holds is still not sent again. And what a worker that joined the pool after
 * a `%%pool run` cell says about the names that cell defined.
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";
import { plain } from "../helpers/kernel-client.js";

const s = useKernel({}, async ({ ok }) => {
  await ok("%pool start 2");
});
const { ok, fails } = s;
const received = async () => plain(await ok("%%pool run\n(globalThis as any)[Symbol.for('tspool.workerCode')]().received"));

describe("the values a cell uses", () => {
  it("are as they were when the cell ran, whatever earlier tasks did to them on the workers", async () => {
    await ok("const stack = [1, 2, 3, 4, 5]");
    const before = await received();
    for (let i = 0; i < 3; i++) expect(plain(await ok("%%pool map [0, 1] --chunksize 1\n(i: number) => stack.pop()"))).toBe("[ 5, 5 ]");
    expect(plain(await ok("await pool.map((i: number) => stack.pop(), [0, 1], { chunksize: 1 })"))).toBe("[ 5, 5 ]");
    expect(plain(await ok("stack"))).toBe("[ 1, 2, 3, 4, 5 ]");
    // the data itself went to each worker once (the reading cell above adds nothing either)
    expect(await received()).not.toBe(before);
    const after = await received();
    expect(plain(await ok("%%pool map [0, 1] --chunksize 1\n(i: number) => stack.pop()"))).toBe("[ 5, 5 ]");
    expect(await received()).toBe(after);

    // what a %%pool run cell does to a copy is not what a later cell sees
    await ok("const cfg = { k: 1 }");
    expect(plain(await ok("%%pool run\ncfg.k = 99"))).toBe("[ 99, 99 ]");
    expect(plain(await ok("%%pool map [5]\n(x: number) => x * cfg.k"))).toBe("[ 5 ]");
    // nor a global a task assigns
    await ok("let cnt = 0\nfunction bump() { return ++cnt }");
    expect(plain(await ok("%%pool run\nbump()"))).toBe("[ 1, 1 ]");
    expect(plain(await ok("%%pool run\nbump()"))).toBe("[ 1, 1 ]");
    // within one call, the tasks a worker runs share that call's copy
    expect(plain(await ok("%%pool run\n[bump(), bump()]"))).toBe("[ [ 1, 2 ], [ 1, 2 ] ]");
  });

  it("are the call's for a worker that replaces one that died during the call", async () => {
    await ok("%pool start 1");
    await ok("const conf = { k: 1 }");
    await ok("const slow = pool.map((x: number) => { const t = Date.now(); while (Date.now() - t < 500); return [x * conf.k, process.pid] }, [1, 2], { chunksize: 1 })");
    const first = plain(await ok("conf.k = 7; const victim = pool.status()!.workers[0].pid; process.kill(victim, 'SIGKILL'); victim"));
    const r = plain(await ok("(await slow).map(([v, pid]) => [v, pid === victim ? 'old worker' : 'new worker'])"));
    expect(first).toMatch(/^\d+$/);
    expect(r).toBe("[ [ 1, 'new worker' ], [ 2, 'new worker' ] ]");
    await ok("%pool start 2");
  });
});

describe("a worker that joined the pool after a %%pool run cell", () => {
  it("says which cell defined the name it lacks, and that running it again defines it there too", async () => {
    await ok("%%pool run\nfunction wfn(x: number) { return x + 1 }\n0");
    expect(plain(await ok("%%pool run\nwfn(1)"))).toBe("[ 2, 2 ]");
    await ok("%pool start 3");
    const e = await fails("%%pool run\nwfn(1)");
    expect(e.ename).toBe("ReferenceError");
    expect(e.evalue).toMatch(/^wfn is not defined: `wfn` was defined on the workers by the `%%pool run` cell \[\d+\], which ran before worker 2 joined the pool \(added by `%pool start`, or replacing a worker that stopped\), so worker 2 does not have it\. Run that cell again \(it runs on every worker\)/);
    await ok("%%pool run\nfunction wfn(x: number) { return x + 1 }\n0");
    expect(plain(await ok("%%pool run\nwfn(1)"))).toBe("[ 2, 2, 2 ]");
  });
});
