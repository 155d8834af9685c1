/**
 * The live display of `%%pool map` through the real kernel, over time: it keeps refreshing
 * during long tasks and stops when the cell ends; a map that fails or is interrupted ends in a
 * final state, before the cell does, that says what became of each worker's task; thread
 * workers are shown by their thread id (and `%pool status` says their memory is shared); the
 * timeline of a failed map says what it shows.
 */
import { describe, expect, it } from "vitest";
import { useKernel } from "../helpers/kernel-session.js";
import type { ExecuteResult } from "../helpers/kernel-client.js";
import type { JupyterMessage } from "../../kernel/wire/message.js";
import { interruptCell, type InterruptedCell } from "../helpers/iopub-wait.js";

const s = useKernel({}, async ({ ok }) => {
  await ok("%pool start 2");
  await ok("import { execSync } from 'node:child_process'");
});
const { ok } = s;
const text = (m: JupyterMessage) => String(m.content.data?.["text/plain"] ?? "");
const isDisplay = (m: JupyterMessage) => m.header.msg_type === "display_data" || m.header.msg_type === "update_display_data";

/** The map display's messages (its display_id), in order, among `messages`. */
function mapDisplay(messages: JupyterMessage[]): JupyterMessage[] {
  const first = messages.find((m) => m.header.msg_type === "display_data" && text(m).startsWith("%%pool"));
  expect(first).toBeTruthy();
  const id = first!.content.transient.display_id;
  return messages.filter((m) => isDisplay(m) && m.content.transient?.display_id === id);
}

async function rememberPids(): Promise<void> {
  const r = await ok("%%pool run\nprocess.pid");
  for (const p of JSON.parse(String(r.result!.data["text/plain"]).replace(/\s/g, ""))) s.workerPids.add(p);
}

/** Starts `code`, interrupts it once `ready` holds for its output, and returns the cell and every iopub message since it started. */
function interrupted(code: string, ready: (all: string) => boolean): Promise<InterruptedCell> {
  return interruptCell(s.kernel.client, code, ready);
}

/** The index of the cell's `idle` status in `log`. */
function idleIndex(log: JupyterMessage[], r: ExecuteResult): number {
  const i = log.findIndex((m) => m.parent_header.msg_id === r.msgId && m.header.msg_type === "status" && m.content.execution_state === "idle");
  expect(i).toBeGreaterThan(0);
  return i;
}

describe("while tasks run", () => {
  it("refreshes elapsed time at least every second even when no task finishes, and stops with the cell", async () => {
    const from = s.kernel.client.iopubLog.length;
    const r = await ok("%%pool map [1] --chunksize 1\n(x: number) => { const end = Date.now() + 3500; while (Date.now() < end); return x }");
    const updates = mapDisplay(r.iopub);
    // Updates that still show 0/1 items, i.e. sent while the only task was running, and how long the map had run then.
    const elapsed = updates
      .map(text)
      .filter((t) => t.startsWith("%%pool map: 0/1 items"))
      .map((t) => /elapsed ([\d.]+) (µs|ms|s)\b/.exec(t)!)
      .map(([, n, unit]) => Number(n) * (unit === "s" ? 1000 : unit === "ms" ? 1 : 0.001));
    expect(elapsed.filter((ms) => ms >= 900).length).toBeGreaterThanOrEqual(2);
    expect(new Set(elapsed).size).toBe(elapsed.length); // each says something new
    expect(text(updates[updates.length - 1])).toMatch(/^%%pool map done: 1\/1 items/);
    // No update of the display after the cell ended: the refresh timer ended with the map.
    await new Promise((res) => setTimeout(res, 2500));
    const later = s.kernel.client.iopubLog.slice(from).filter((m) => isDisplay(m) && m.parent_header.msg_id === r.msgId);
    expect(later).toHaveLength(updates.length);
  });
});

describe("a map that is interrupted or fails", () => {
  it("ends, before the cell does, in a final state saying what became of each worker's task", async () => {
    await rememberPids();
    const { r, log } = await interrupted(
      "%%pool map [1, 2] --chunksize 1\n(x: number) => {\n  console.log('started', x)\n  if (x === 2) execSync('sleep 20')\n  for (;;) {}\n}",
      (all) => /\[worker \d\] started 1/.test(all) && /\[worker \d\] started 2/.test(all),
    );
    expect(r.error!.ename).toBe("Interrupted");
    const display = mapDisplay(log);
    const last = display[display.length - 1];
    expect(log.indexOf(last)).toBeLessThan(idleIndex(log, r)); // final before the cell is idle, nothing after
    const final = text(last);
    expect(final).toMatch(/^%%pool map stopped after 0\/2 items \(interrupted\) in .* on 2 workers$/m);
    // The spinning task was stopped on its worker; the one blocked in execSync had its worker replaced.
    expect(final).toMatch(/^ {2}worker \d \(pid \d+\): 0 items in 0 tasks, busy .*; item 0 stopped; the worker keeps its state$/m);
    expect(final).toMatch(/^ {2}worker \d \(pid (\d+)\): 0 items in 0 tasks, busy .*; item 1 did not stop in time; its worker \(pid \1\) was replaced by a new one$/m);
    expect(final).not.toMatch(/running/);
    await rememberPids();
  });

  it("a failed map's timeline says how many tasks it shows and how each ended", async () => {
    const r = await s.kernel.client.execute(
      "%%pool map [1, 2, 3] --chunksize 1 --timeline\n(x: number) => {\n  const end = Date.now() + (x === 2 ? 300 : x === 3 ? 4000 : 0)\n  while (Date.now() < end);\n  if (x === 2) throw new Error('two')\n  return x\n}",
    );
    expect(r.error!.evalue).toMatch(/^two \(worker \d, item 1\)$/);
    const timeline = r.displays.find((d) => d.content.data?.["application/vnd.vegalite.v5+json"])!;
    const values: { status: string; items: string }[] = timeline.content.data["application/vnd.vegalite.v5+json"].data.values;
    expect(values).toContainEqual(expect.objectContaining({ status: "failed", items: "item 1" }));
    // The caption counts what the chart shows, by how each task ended, in the chart's order.
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
    const words: Record<string, string> = { ok: "ok", failed: "failed", stopped: "stopped unfinished" };
    const breakdown = [...counts].map(([s, n]) => `${n} ${words[s]}`).join(", ");
    const n = values.length;
    expect(text(timeline)).toBe(`%%pool map: timeline of ${n} task${n === 1 ? "" : "s"} (${breakdown}) on 2 workers`);
    expect(timeline.content.data["image/svg+xml"].match(/<rect /g)).toHaveLength(n);
  });
});

describe("thread workers", () => {
  it("are shown by thread id in the map display, and %pool status says their memory is shared", async () => {
    await ok("%pool start 2 --threads");
    const threadIds: number[] = JSON.parse(String((await ok("%%pool run\nrequire('node:worker_threads').threadId")).result!.data["text/plain"]).replace(/\s/g, ""));
    const r = await ok("%%pool map [1, 2, 3, 4] --chunksize 1\n(x: number) => { const end = Date.now() + 50; while (Date.now() < end); return x }");
    const final = text(mapDisplay(r.iopub).slice(-1)[0]);
    const shown = [...final.matchAll(/^ {2}worker (\d) \(thread (\d+)\):/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(shown.length).toBeGreaterThan(0);
    for (const [id, thread] of shown) expect(thread).toBe(threadIds[id]);
    expect(final).not.toMatch(/pid/);
    const st = String((await ok("%pool status")).displays[0].content.data["text/plain"]);
    expect(st).toMatch(/^worker 0\s+\d+\s+idle\s+.*\bshared\b/m);
    expect(st).toMatch(/^memory: thread workers share the kernel's process \([\d.]+ MiB resident in all\); a thread's own use is not measured separately\.$/m);
  });

  it("an interrupted map whose threads are blocked in native code still ends in a final state before the cell", async () => {
    const { r, log } = await interrupted(
      "%%pool map [1, 2] --chunksize 1\n(x: number) => {\n  console.log('blocking', x)\n  execSync('sleep 6')\n  return x\n}",
      (all) => /\[worker \d\] blocking 1/.test(all) && /\[worker \d\] blocking 2/.test(all),
    );
    expect(r.reply.content.status).toBe("error");
    const display = mapDisplay(log);
    const last = display[display.length - 1];
    expect(log.indexOf(last)).toBeLessThan(idleIndex(log, r));
    const final = text(last);
    expect(final).toMatch(/^%%pool map stopped after 0\/2 items \(interrupted\)/m);
    // Each blocked thread either was replaced in time or is said to be being replaced.
    for (const item of [0, 1]) {
      expect(final).toMatch(new RegExp(`^ {2}worker \\d \\(thread \\d+\\): .*; item ${item} (did not stop in time; its worker \\(thread \\d+\\) was replaced by a new one|had not stopped 2 s after the map was interrupted; its worker is being replaced)$`, "m"));
    }
    expect(final).not.toMatch(/running|pid/);
  }, 60_000);
});
