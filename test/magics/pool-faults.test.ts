/**
 * Faults under %%pool cells through the real kernel: a worker killed with SIGKILL mid-map (no
 * result lost, pool back to full size), a task that keeps killing workers, --timeout, and kernel
 * interrupts (stoppable code keeps its workers and their state; unstoppable code gets its worker
 * replaced; a task interrupted while it awaited does not run on after the cell).
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";
import { plain } from "../helpers/kernel-client.js";
import { waitForIopub } from "../helpers/iopub-wait.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const s = useKernel({}, async ({ ok }) => {
  await ok("%pool start 2");
});
const { ok } = s;

async function workerPids(): Promise<number[]> {
  const r = await ok("%%pool run\nprocess.pid");
  const pids: number[] = JSON.parse(plain(r).replace(/ /g, ""));
  for (const p of pids) s.workerPids.add(p);
  return pids;
}

async function statusText(): Promise<string> {
  const r = await ok("%pool status");
  return r.displays[0].content.data["text/plain"] as string;
}

describe("a worker killed with SIGKILL mid-map", () => {
  it("loses no result: its task is retried on another worker and the pool is back to full size", async () => {
    const [, victim] = await workerPids();
    const from = s.kernel.client.iopubLog.length;
    const running = s.kernel.client.execute(
      "%%pool map Array.from({ length: 16 }, (_, i) => i) --chunksize 1\nasync (x: number) => { await new Promise((res) => setTimeout(res, 60)); console.log('did', x); return x * 2 }",
    );
    await waitForIopub(s.kernel.client, from, (t) => /worker 1 \(pid \d+\): \d+ items done, running/.test(t) && /\[worker 1\] did/.test(t));
    process.kill(victim, "SIGKILL");
    const r = await running;
    expect(r.reply.content.status).toBe("ok");
    expect(plain(r).replace(/\s+/g, "")).toBe(`[${Array.from({ length: 16 }, (_, i) => i * 2).join(",")}]`);
    const finalText = r.displays[r.displays.length - 1].content.data["text/plain"] as string;
    expect(finalText).toMatch(/^%%pool map done: 16\/16 items/);
    expect(finalText).toContain(`pid ${victim}, was killed by SIGKILL; a new worker takes its place`);
    const pids = await workerPids();
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(victim);
    expect(await statusText()).toMatch(/worker 1\s+\d+\s+idle\s+.*\s1\s+-$/m); // one restart, nothing running
  });

  it("a task that keeps killing workers ends in an error naming the worker, the item and the signal", async () => {
    const r = await s.kernel.client.execute("%%pool map [0, 1, 2] --chunksize 1\n(x: number) => { if (x === 1) process.kill(process.pid, 'SIGKILL'); return x }");
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.ename).toBe("WorkerCrashedError");
    expect(r.error!.evalue).toMatch(/^worker \d \(pid \d+, item 1\) was killed by SIGKILL while running the task after 2 attempts/);
    // back to full size, and usable
    expect(plain(await ok("%%pool map [1, 2, 3]\n(x: number) => x + 1"))).toBe("[ 2, 3, 4 ]");
    expect(await workerPids()).toHaveLength(2);
  });

  it("--retries 0 fails at the first death", async () => {
    const r = await s.kernel.client.execute("%%pool map [5] --retries 0\n(x: number) => { process.kill(process.pid, 'SIGKILL'); return x }");
    expect(r.error!.ename).toBe("WorkerCrashedError");
    expect(r.error!.evalue).toMatch(/item 0\) was killed by SIGKILL while running the task$|item 0\) was killed by SIGKILL while running the task\n/);
    expect(r.error!.evalue).not.toContain("attempts");
  });
});

describe("--timeout", () => {
  it("stops a task that runs too long and names it", async () => {
    const r = await s.kernel.client.execute("%%pool map [1, 2] --timeout 300\n(x: number) => { const t = Date.now(); while (x === 2 && Date.now() - t < 20000) {} return x }");
    expect(r.error!.ename).toBe("TaskTimeoutError");
    expect(r.error!.evalue).toMatch(/^item 1 on worker \d ran longer than --timeout 300 ms and was stopped$/);
    // the display's summary says why the map stopped and what became of the task
    const summary = r.displays[r.displays.length - 1].content.data["text/plain"] as string;
    expect(summary).toMatch(/^%%pool map stopped after 1\/2 items \(timed out\) in /);
    expect(summary).toMatch(/^ {2}worker \d \(pid \d+\): \d items? in \d tasks?, busy .*; item 1 stopped; the worker keeps its state$/m);
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => -x"))).toBe("[ -1, -2 ]");
  });

  it("also bounds the attempt that runs after a worker died (a retried task)", async () => {
    const marker = JSON.stringify(join(mkdtempSync(join(tmpdir(), "tspool-timeout-")), "crashed-once"));
    const r = await s.kernel.client.execute(
      `%%pool map [7] --timeout 400\n(x: number) => {\n  const fs = require("node:fs")\n  if (!fs.existsSync(${marker})) { fs.writeFileSync(${marker}, ""); process.kill(process.pid, "SIGKILL") }\n  for (;;) {}\n}`,
    );
    expect(r.error!.ename).toBe("TaskTimeoutError");
    expect(r.error!.evalue).toMatch(/^item 0 on worker \d ran longer than --timeout 400 ms and was stopped$/);
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => -x"))).toBe("[ -1, -2 ]");
  });
});

describe("interrupting a %%pool cell", () => {
  it("stops synchronous tasks and keeps the workers and their state", async () => {
    await ok("%%pool run\nglobalThis.keep = 'kept'");
    const before = await workerPids();
    const from = s.kernel.client.iopubLog.length;
    // The loop prints now and then, so the test knows both workers are inside it.
    const running = s.kernel.client.execute("%%pool map [1, 2, 3, 4] --chunksize 1\n(x: number) => { let last = 0; for (;;) { if (Date.now() - last > 60) { console.log('spinning', x); last = Date.now() } } }");
    await waitForIopub(s.kernel.client, from, (t) => /\[worker 0\] spinning/.test(t) && /\[worker 1\] spinning/.test(t));
    await s.kernel.client.request("control", "interrupt_request", {});
    const r = await running;
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.ename).toBe("Interrupted");
    expect(plain(await ok("%pool pull keep"))).toBe("[ 'kept', 'kept' ]");
    expect(await workerPids()).toEqual(before);
    // The map's display is updated in place, never cleared and re-shown: that could erase the interrupt's error.
    expect(s.kernel.client.iopubLog.slice(from).filter((m) => m.header.msg_type === "clear_output")).toHaveLength(0);
  });

  it("stops tasks that a normal cell started through the pool global", async () => {
    const from = s.kernel.client.iopubLog.length;
    const running = s.kernel.client.execute("await pool.map((x: number) => { let last = 0; for (;;) { if (Date.now() - last > 60) { console.log('lib spinning', x); last = Date.now() } } }, [1, 2], { chunksize: 1 })");
    await waitForIopub(s.kernel.client, from, (t) => /\[worker 0\] lib spinning/.test(t) && /\[worker 1\] lib spinning/.test(t));
    await s.kernel.client.request("control", "interrupt_request", {});
    const r = await running;
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.ename).toMatch(/Interrupt/);
    expect(plain(await ok("%pool pull keep"))).toBe("[ 'kept', 'kept' ]");
  });

  it("replaces a worker whose code cannot be stopped, and the pool stays usable", async () => {
    await ok("import { execSync } from 'node:child_process'");
    const from = s.kernel.client.iopubLog.length;
    const r1 = s.kernel.client.execute("%%pool map [1] --chunksize 1\n(x: number) => { console.log('blocking'); execSync('sleep 20'); return x }");
    await waitForIopub(s.kernel.client, from, (t) => /\] blocking/.test(t));
    await s.kernel.client.request("control", "interrupt_request", {});
    const r = await r1;
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.ename).toBe("Interrupted");
    const pids = await workerPids();
    expect(pids).toHaveLength(2);
    expect(plain(await ok("%pool pull keep"))).toMatch(/^\[ (undefined, 'kept'|'kept', undefined) \]$/);
  });

  it("stops a task interrupted while it awaited, so that it cannot spin on after the cell and the next %%pool run answers", async () => {
    await workerPids(); // remembered, so that afterAll can stop a worker this test leaves spinning
    const from = s.kernel.client.iopubLog.length;
    // Each task prints, then awaits (the interrupt comes during the wait), then would loop forever.
    const running = s.kernel.client.execute(
      "%%pool map [1, 2] --chunksize 1\nasync (x: number) => { console.log('awaiting', x); await new Promise((r) => setTimeout(r, 1500)); for (;;) {} }",
    );
    await waitForIopub(s.kernel.client, from, (t) => /\[worker 0\] awaiting/.test(t) && /\[worker 1\] awaiting/.test(t));
    await s.kernel.client.request("control", "interrupt_request", {});
    const r = await running;
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.ename).toBe("Interrupted");
    // Long after the awaited timers fired, every worker must still take work.
    await new Promise((res) => setTimeout(res, 2000));
    const answer = await Promise.race([
      s.kernel.client.execute("%%pool run\nprocess.pid"),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("%%pool run after the interrupt got no answer in 20 s: a worker is still running the interrupted task's loop")), 20_000),
      ),
    ]);
    expect(answer.reply.content.status).toBe("ok");
    const pids: number[] = JSON.parse(plain(answer).replace(/ /g, ""));
    expect(pids).toHaveLength(2);
  }, 40_000);
});
