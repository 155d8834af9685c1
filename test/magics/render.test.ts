import { describe, expect, it } from "vitest";
import { MapProgress, MAX_LINES_PER_WORKER } from "../../dist/magics/map-progress.js";
import { renderText } from "../../dist/magics/render-text.js";
import { renderHtml } from "../../dist/magics/render-html.js";
import { timelineCaption, timelineSvg, timelineVegaLite } from "../../dist/magics/render-timeline.js";
import { LiveMapDisplay } from "../../dist/magics/live-display.js";

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

function twoWorkerMap() {
  const c = clock();
  const p = new MapProgress("%%pool map", 4, c.now);
  p.taskStarted(0, 0, 1, 111);
  p.taskStarted(1, 1, 1, 222);
  p.output(0, "stdout", "hello from zero\n");
  p.output(1, "stderr", "warn <one>\nsecond line\n");
  c.advance(100);
  p.taskFinished(0, 0, 1, 100);
  p.taskStarted(0, 2, 1);
  c.advance(50);
  p.taskFinished(1, 1, 1, 150);
  return { p, c };
}

describe("map progress rendering", () => {
  it("labels every worker line in text/plain and shows done/total, rate, elapsed and ETA", () => {
    const { p } = twoWorkerMap();
    const text = renderText(p);
    expect(text).toMatch(/^%%pool map: 2\/4 items · [\d.]+ items\/s · elapsed 150 ms · ETA 150 ms/);
    expect(text).toContain("[worker 0] hello from zero");
    expect(text).toContain("[worker 1] (stderr) warn <one>");
    expect(text).toContain("[worker 1] (stderr) second line");
    expect(text).toContain("worker 0 (pid 111): 1 item done, running");
    expect(text).toContain("50%");
  });
  it("has one escaped HTML panel per worker", () => {
    const { p } = twoWorkerMap();
    const html = renderHtml(p);
    expect(html.match(/class="tspool-worker"/g)).toHaveLength(2);
    expect(html).toContain('data-worker="1"');
    expect(html).toContain("warn &lt;one&gt;");
    expect(html).not.toContain("<one>");
  });
  it("summarises per-worker counts, busy time, wall time and speedup when finished", () => {
    const { p, c } = twoWorkerMap();
    c.advance(50);
    p.taskFinished(0, 2, 1, 100);
    p.taskStarted(1, 3, 1);
    c.advance(100);
    p.taskFinished(1, 3, 1, 100);
    p.finish();
    const text = renderText(p);
    expect(text).toContain("%%pool map done: 4/4 items in 300 ms");
    expect(text).toContain("worker 0 (pid 111): 2 items in 2 tasks, busy 200 ms");
    expect(text).toContain("worker 1 (pid 222): 2 items in 2 tasks, busy 250 ms");
    expect(text).toContain("summed task time 450 ms / wall time 300 ms = speedup 1.50x");
    expect(text).toContain("[worker 0] hello from zero"); // output stays after the summary
  });
  it("draws the timeline as Vega-Lite v5 and as SVG, one bar per task", () => {
    const { p } = twoWorkerMap();
    p.finish();
    const spec = timelineVegaLite(p) as { $schema: string; data: { values: { worker: string; start: number; end: number }[] } };
    expect(spec.$schema).toContain("vega-lite/v5");
    expect(spec.data.values).toEqual([
      expect.objectContaining({ worker: "worker 0", start: 0, end: 100, items: "item 0" }),
      expect.objectContaining({ worker: "worker 1", start: 0, end: 150, items: "item 1" }),
    ]);
    const svg = timelineSvg(p);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain(">worker 1</text>");
  });
});

describe("a map that stops before the end", () => {
  it("says it is stopping, then what became of each worker's task; thread workers by thread id", () => {
    const c = clock();
    const p = new MapProgress("%%pool map", 3, c.now);
    p.threads = true;
    p.worker(0, 500).threadId = 7;
    p.worker(1, 500).threadId = 8;
    p.taskStarted(0, 0, 1, 500);
    p.taskStarted(1, 1, 2, 500);
    c.advance(100);
    p.stopping("interrupted");
    const live = renderText(p);
    expect(live).toMatch(/^%%pool map stopping \(interrupted\): 0\/3 items · 0 items\/s · elapsed 100 ms$/m);
    expect(live).toContain("worker 0 (thread 7): 0 items done, stopping item 0");
    expect(live).toContain("worker 1 (thread 8): 0 items done, stopping items 1..2");
    expect(live).not.toContain("pid");
    c.advance(50);
    p.taskStopped(0, "item 0 stopped; the worker keeps its state");
    p.taskStopped(1, "items 1..2 did not stop in time; its worker (thread 8) was replaced by a new one");
    p.finish();
    const text = renderText(p);
    expect(text).toContain("%%pool map stopped after 0/3 items (interrupted) in 150 ms (0 items/s) on 2 workers");
    expect(text).toContain("  worker 0 (thread 7): 0 items in 0 tasks, busy 0 s; item 0 stopped; the worker keeps its state");
    expect(text).toContain("  worker 1 (thread 8): 0 items in 0 tasks, busy 0 s; items 1..2 did not stop in time; its worker (thread 8) was replaced by a new one");
    expect(renderHtml(p)).toContain("items 1..2 did not stop in time");
    // the stopped tasks are in the timeline, grey, until they stopped
    expect(p.spans.map((sp) => [sp.status, sp.start, sp.end])).toEqual([["stopped", 0, 150], ["stopped", 0, 150]]);
    expect(timelineSvg(p)).toContain('fill="#999"');
  });

  it("captions the timeline with what it shows, in singular and plural", () => {
    const c = clock();
    const one = new MapProgress("%%pool map", 3, c.now);
    one.taskStarted(0, 0, 1, 1);
    c.advance(10);
    one.taskFinished(0, 0, 1, 10, false);
    one.finish(true);
    expect(timelineCaption(one)).toBe("%%pool map: timeline of 1 task (1 failed) on 1 worker");
    const { p } = twoWorkerMap();
    p.taskStopped(0);
    p.finish();
    expect(timelineCaption(p)).toBe("%%pool map: timeline of 3 tasks (2 ok, 1 stopped unfinished) on 2 workers");
    const all = twoWorkerMap().p;
    all.finish();
    expect(timelineCaption(all)).toBe("%%pool map: timeline of 2 tasks on 2 workers");
  });
});

describe("long output", () => {
  it("keeps the last lines per worker in the display and hands back the ones that leave it", () => {
    const p = new MapProgress("%%pool map", 1, () => 0);
    const first = p.output(0, "stdout", Array.from({ length: MAX_LINES_PER_WORKER }, (_, i) => `line ${i}`).join("\n") + "\n");
    expect(first).toEqual([]);
    const evicted = p.output(0, "stdout", "one more\nand another\n");
    expect(evicted.map((l) => l.text)).toEqual(["line 0", "line 1"]);
    const text = renderText(p);
    expect(text).toContain("[worker 0] … 2 earlier lines not shown");
    expect(text).not.toContain("[worker 0] line 0\n");
    expect(text).toContain("[worker 0] and another");
  });
});

describe("live display", () => {
  it("updates one display_id in place, throttled, and ends with the summary and a separate timeline", async () => {
    const p = new MapProgress("%%pool map", 100, () => performance.now());
    const events: { update: boolean; data: Record<string, unknown>; transient: { display_id?: string } }[] = [];
    const live = new LiveMapDisplay(p, { parent: "msg-1", emit: (e) => events.push(e), timeline: true, intervalMs: 40 });
    live.start();
    for (let i = 0; i < 100; i++) {
      p.taskStarted(i % 2, i, 1, 10 + (i % 2));
      p.taskFinished(i % 2, i, 1, 1);
      live.changed();
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 15));
    }
    await new Promise((r) => setTimeout(r, 60));
    const updatesBeforeFinish = events.length;
    live.finish();
    // 100 changes over ~200 ms of waiting at most one update every 40 ms: far fewer updates than changes.
    expect(updatesBeforeFinish).toBeGreaterThanOrEqual(2);
    expect(updatesBeforeFinish).toBeLessThan(20);
    const main = events.filter((e) => e.transient.display_id === live.displayId);
    expect(main[0].update).toBe(false);
    expect(main.slice(1).every((e) => e.update)).toBe(true);
    expect(String(main[main.length - 1].data["text/plain"])).toContain("%%pool map done: 100/100 items");
    const timeline = events[events.length - 1];
    expect(timeline.transient.display_id).toBeUndefined();
    expect(Object.keys(timeline.data)).toEqual(expect.arrayContaining(["application/vnd.vegalite.v5+json", "image/svg+xml"]));
    live.changed(); // after finish: ignored
    await new Promise((r) => setTimeout(r, 60));
    expect(events[events.length - 1]).toBe(timeline);
  });

  it("refreshes on its own while the map runs, and not after finish", async () => {
    const p = new MapProgress("%%pool map", 1, () => performance.now());
    const events: { data: Record<string, unknown> }[] = [];
    const live = new LiveMapDisplay(p, { parent: "msg-3", emit: (e) => events.push(e as { data: Record<string, unknown> }), intervalMs: 10, refreshMs: 40 });
    live.start();
    // nothing changes, yet the display moves on (its elapsed time), again and again
    for (const deadline = Date.now() + 10_000; events.length < 4 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    const texts = events.map((e) => String(e.data["text/plain"]));
    expect(texts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(texts.map((t) => t.split("\n")[0])).size).toBe(texts.length);
    live.finish();
    const finished = events.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toHaveLength(finished);
  });

  it("re-shows the final state as a fresh display after clear_output when it is the cell's only output", () => {
    const p = new MapProgress("%%pool map", 2, () => performance.now());
    const events: { type: string; update?: boolean; wait?: boolean; data?: Record<string, unknown>; transient?: { display_id?: string } }[] = [];
    const live = new LiveMapDisplay(p, { parent: "msg-2", emit: (e) => events.push(e) });
    live.start();
    p.taskStarted(0, 0, 2, 10);
    p.taskFinished(0, 0, 2, 1);
    live.finish({ alone: true });
    expect(events.map((e) => e.type)).toEqual(["display", "clear_output", "display"]);
    expect(events[1].wait).toBe(true);
    expect(events[2].update).toBe(false);
    expect(events[2].transient!.display_id).toBe(live.displayId);
    expect(String(events[2].data!["text/plain"])).toContain("%%pool map done: 2/2 items");
  });
});
