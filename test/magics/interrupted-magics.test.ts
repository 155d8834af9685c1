/**
 * A magic cell that is interrupted ends there, through the real kernel: whatever the magic was
 * awaiting when the interrupt came (its body, its ITERABLE, the pool starting, a timed
 * statement), it starts no work on the pool afterwards, sends nothing to the finished cell, binds
 * neither `--out` nor `_`, and leaves the workers idle.
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";
import { plain } from "../helpers/kernel-client.js";
import { interruptCell, iopubText } from "../helpers/iopub-wait.js";
import type { JupyterMessage } from "../../kernel/wire/message.js";

const s = useKernel({}, async ({ ok }) => {
  await ok("%pool start 2");
});
const { ok } = s;
/** What came after the cell ended, readably (it must be nothing). */
const described = (late: JupyterMessage[]) => late.map((m) => `${m.header.msg_type}: ${iopubText(m)}`);

async function rememberPids(): Promise<void> {
  const r = await ok("%%pool run\nprocess.pid");
  for (const p of JSON.parse(plain(r).replace(/\s/g, ""))) s.workerPids.add(p);
}

/** The workers are idle and answer at once. */
async function expectIdleWorkers(): Promise<void> {
  expect(plain(await ok("%%pool map [1, 2]\n(x: number) => x * 2"))).toBe("[ 2, 4 ]");
}

describe("an interrupted %%pool map", () => {
  it("whose body was awaiting before declaring its function never maps, and binds neither --out nor _", async () => {
    await rememberPids();
    await ok("'before'");
    const { r, late } = await interruptCell(
      s.kernel.client,
      "%%pool map [1, 2, 3, 4] --chunksize 1 --out zz\nconsole.log('body awaiting')\nawait new Promise((r) => setTimeout(r, 1000))\nconst ff = (x: number) => { console.log('zombie ran', x); return x * 3 }",
      (all) => all.includes("body awaiting"),
      2500,
    );
    expect(r.error!.ename).toBe("Interrupted");
    expect(described(late)).toEqual([]);
    expect(plain(await ok("(globalThis as any)._"))).toBe("'before'");
    expect(plain(await ok("typeof (globalThis as any).zz"))).toBe("'undefined'");
    await expectIdleWorkers();
  });

  it("whose ITERABLE is an async iterable stops consuming it", async () => {
    await ok("const producedAt: number[] = []\nasync function* slowItems() {\n  console.log('generator started')\n  for (let i = 0; i < 6; i++) { await new Promise((r) => setTimeout(r, 400)); producedAt.push(Date.now()); yield i }\n}");
    const { r, late, endedAt } = await interruptCell(
      s.kernel.client,
      "%%pool map slowItems()\n(x: number) => { console.log('zombie item', x); return x }",
      (all) => all.includes("generator started"),
      3000,
    );
    expect(r.error!.ename).toBe("Interrupted");
    expect(described(late)).toEqual([]);
    // Only the item the generator was already producing when the cell ended may follow it.
    const producedAt: number[] = JSON.parse(plain(await ok("JSON.stringify(producedAt)")).slice(1, -1));
    expect(producedAt.length).toBeGreaterThan(0);
    expect(producedAt.filter((t) => t > endedAt).length).toBeLessThanOrEqual(1);
    await expectIdleWorkers();
  });
});

describe("an interrupted %%pool run", () => {
  it("that was waiting for the pool to start never runs its body", async () => {
    await ok("%pool stop");
    const { r, late, endedAt } = await interruptCell(s.kernel.client, "%%pool run\n(globalThis as any).startedAt = Date.now()\nconsole.log('run started')", 30, 2000);
    expect(r.error!.ename).toBe("Interrupted");
    expect(described(late)).toEqual([]);
    await rememberPids();
    // Had the body run before the interrupt, it would have done so while the cell still ran.
    const started: (number | null)[] = JSON.parse(plain(await ok("%pool pull startedAt")).replace(/undefined/g, "null"));
    expect(started.filter((t) => t !== null && t > endedAt)).toEqual([]);
    await expectIdleWorkers();
  });
});

describe("other interrupted magics write nothing after the cell ended", () => {
  it("%pool start while the workers start", async () => {
    await ok("%pool stop");
    const { r, late } = await interruptCell(s.kernel.client, "%pool start 2", 30, 1500);
    expect(r.error!.ename).toBe("Interrupted");
    expect(described(late)).toEqual([]);
    await rememberPids();
    await expectIdleWorkers();
  });

  it("%%time around an awaiting body, and %timeit of an awaited statement", async () => {
    const time = await interruptCell(s.kernel.client, "%%time\nconsole.log('timing')\nawait new Promise((r) => setTimeout(r, 800))", (all) => all.includes("timing"), 1500);
    expect(time.r.error!.ename).toBe("Interrupted");
    expect(described(time.late)).toEqual([]);
    const timeit = await interruptCell(s.kernel.client, "%timeit -n 4 -r 3 await new Promise((r) => setTimeout(r, 150))", 300, 2500);
    expect(timeit.r.error!.ename).toBe("Interrupted");
    expect(described(timeit.late)).toEqual([]);
  });
});
