/**
 * What each example notebook must show once executed, checked the same way whichever frontend
 * executed it (nbclient or `tspool run`): totals, per-worker labels, chart MIME types.
 */
import { expect } from "vitest";
import { cellText, cellWith, codeCells, text, type ExecutedCell, type ExecutedNotebook } from "./helpers.js";

const VEGA_LITE = "application/vnd.vegalite.v5+json";

function mimeTypes(cell: ExecutedCell): string[] {
  return (cell.outputs ?? []).flatMap((o) => Object.keys(o.data ?? {}));
}

function noErrors(nb: ExecutedNotebook): void {
  for (const cell of codeCells(nb)) {
    const errors = (cell.outputs ?? []).filter((o) => o.output_type === "error");
    expect(errors, `cell ${text(cell.source).split("\n")[0]} failed:\n${cellText(cell)}`).toEqual([]);
    if (text(cell.source).trim()) expect(cell.execution_count, text(cell.source)).toBeGreaterThan(0);
  }
}

function errorsOf(cell: ExecutedCell): { ename: string; evalue: string }[] {
  return (cell.outputs ?? []).filter((o) => o.output_type === "error");
}

/**
 * The Amdahl measurement is coherent, whatever the load on the machine: the speedups are measured
 * against a pool of one worker (so its point is 1.00), each pool really ran as many tasks at once
 * as it has workers (counted from its task events, not timed), the workers got no more cores than
 * exist, and no point is physically impossible. No lower bound on a speedup: on a shared 2-core
 * machine other programs take the cores (at load averages of 6 to 10, 2 to 4 workers measured 0.79x
 * to 1.42x of one), and the notebook prints how many cores the workers got instead.
 */
const SPEEDUP_NOISE = 1.2;

function amdahlIsSane(nb: ExecutedNotebook): void {
  const cores = Number(/(\d+) CPU cores on this machine/.exec(cellText(cellWith(nb, "CPU cores on this machine")))?.[1]);
  expect(cores).toBeGreaterThan(0);
  const shown = cellText(cellWith(nb, "const measured"));
  const rows = [...shown.matchAll(/^\| (\d+) \| (\d+) ms \| ([\d.]+) \| ([\d.]+) \| (\d+) \| ([\d.]+) \|$/gm)].map((m) => ({
    workers: Number(m[1]),
    speedup: m[3],
    amdahl: Number(m[4]),
    atOnce: Number(m[5]),
    coresUsed: Number(m[6]),
  }));
  expect(rows.map((r) => r.workers), shown).toEqual([1, 2, 3, 4]);
  expect(rows[0].speedup, shown).toBe("1.00");
  for (const r of rows) {
    const usable = Math.min(r.workers, cores);
    expect(r.amdahl).toBeCloseTo(1 / (0.2 + 0.8 / usable), 2);
    expect(r.atOnce, `${r.workers} workers: ${shown}`).toBe(r.workers);
    expect(r.coresUsed, shown).toBeGreaterThan(0);
    expect(r.coresUsed, shown).toBeLessThanOrEqual(usable + 0.3); // helper threads may add a little
    expect(Number(r.speedup), `${r.workers} workers: ${shown}`).toBeLessThanOrEqual(usable * SPEEDUP_NOISE);
  }
  expect(shown).toMatch(new RegExp(`^${cores} cores; load average [\\d.]+ before the measurement, [\\d.]+ after it`, "m"));
}

/** Each worker id 0..n-1 labels at least one line of the cell's text. */
function labelledByWorkers(cell: ExecutedCell, workers: number): void {
  const shown = cellText(cell);
  for (let id = 0; id < workers; id++) expect(shown).toMatch(new RegExp(`worker ${id}\\b`));
}

export const expectations: Record<string, (nb: ExecutedNotebook) => void> = {
  "01-getting-started.ipynb"(nb) {
    noErrors(nb);
    expect(cellText(cellWith(nb, "const cities: City[]"))).toContain("4");
    expect(cellText(cellWith(nb, "function biggest"))).toContain("Tokyo");
    expect(cellText(cellWith(nb, "const totalPopulation"))).toContain("total: 64.7 million");
    expect(mimeTypes(cellWith(nb, "display.markdown"))).toEqual(expect.arrayContaining(["text/markdown", "text/html"]));
    const map = cellWith(nb, "%%pool map [1, 2, 3");
    labelledByWorkers(map, 2);
    expect(cellText(map)).toMatch(/squaring 8/);
    expect(cellText(map)).toMatch(/\[\s*1,\s*4,\s*9,\s*16,\s*25,\s*36,\s*49,\s*64\s*\]/);
    expect(cellText(cellWith(nb, "squares.reduce"))).toContain("204");
    const run = cellText(cellWith(nb, "%%pool run"));
    expect(run.match(/visited 1 time/g)?.length).toBe(2);
    expect(cellText(cellWith(nb, "live on the workers"))).toMatch(/item 40 on pid \d+, visit 1/);
    expect(cellText(cellWith(nb, "largestTwice"))).toMatch(/30\.8.*74\.4.*22.*2\.2/s);
    expect(cellText(cellWith(nb, "%pool status"))).toMatch(/\b0\b[\s\S]*\b1\b/);
  },

  "02-exploring-data-in-parallel.ipynb"(nb) {
    noErrors(nb);
    expect(cellText(cellWith(nb, "%%pool run")).match(/200000 flights loaded/g)?.length).toBe(2);
    const map = cellWith(nb, "%%pool map hoursOfDay");
    labelledByWorkers(map, 2);
    expect(mimeTypes(map)).toContain(VEGA_LITE); // --timeline
    // One line per hour (HourStats prints itself as one line), with the hour's bootstrap interval:
    // seeded by the hour, so the same whichever worker ran it.
    const hours = cellText(map).match(/^\s*\d\d:00 +\d+ flights, mean arrival delay +-?[\d.]+ min \(95% interval +-?[\d.]+ to +-?[\d.]+\)/gm) ?? [];
    expect(hours.length).toBe(24);
    expect(cellText(map)).toContain("03:00     11 flights, mean arrival delay  142.6 min (95% interval  105.4 to  180.3)");
    expect(cellText(map)).not.toMatch(/hours: \{|\[Array\]/); // no raw partial objects
    // The question of the introduction, answered: the day's mean with its interval.
    expect(cellText(cellWith(nb, "const day = hourly.reduce"))).toContain(
      "200000 flights: mean arrival delay 7.50 min, 95% interval 7.36 to 7.64 min (sd 32.0 min); 21.6% arrived more than 15 min late",
    );
    expect(cellText(cellWith(nb, "serialDelaySum"))).toMatch(/delay sum 1500159; parallel: 200000 flights, delay sum 1500159; equal: true/);
    expect(mimeTypes(cellWith(nb, "const byHour"))).toContain(VEGA_LITE);
    // What the text under the chart says, computed from the same numbers.
    const summary = cellText(cellWith(nb, "const busy"));
    expect(summary).toContain("busy hours (1000+ flights): 05:00 to 23:00; the mean arrival delay rises from one to the next in 17 of 18 steps");
    expect(summary).toContain("calmest 05:00 (-2.89 min), worst 23:00 (35.17 min)");
    expect(summary).toMatch(/quiet hours: 00:00 \(697 flights[^;]*; 01:00[^;]*; 02:00[^;]*; 03:00 \(11 flights[^;]*; 04:00 \(11 flights/);
    expect(mimeTypes(cellWith(nb, "Arrival delay by distance"))).toContain(VEGA_LITE);
  },

  "03-teaching-parallelism.ipynb"(nb) {
    // Every cell runs, except those that fail on purpose (tagged raises-exception).
    const failing = codeCells(nb).filter((c) => (c.outputs ?? []).some((o) => o.output_type === "error"));
    expect(failing.map((c) => text(c.source).split("\n")[0])).toEqual([
      "%%pool map [1, 2, 3]",
      "%%pool map [1, 2, 3, 4]",
      "setTimeout(() => pool.interrupt(), 500);",
      "%%pool map [1, 2] --timeout 500",
    ]);
    // The race must really lose updates: the point of the demo.
    const race = /expected 400, got (\d+): (\d+) increments lost/.exec(cellText(cellWith(nb, "const racy")));
    expect(race).not.toBeNull();
    expect(Number(race![1]) + Number(race![2])).toBe(400);
    expect(Number(race![2])).toBeGreaterThan(0);
    expect(cellText(cellWith(nb, "const safe"))).toContain("expected 400, got 400 with the lock");
    expect(cellText(cellWith(nb, "%%pool map [1, 2, 3, 4, 5, 6, 7, 8]"))).toMatch(/file 8 done/);
    expect(cellText(cellWith(nb, "downloads ran at the same time"))).toMatch(/at most [12] downloads ran at the same time/);
    expect(cellText(cellWith(nb, '%%pool map ["producer", "consumer"]'))).toMatch(/produced 20 items[\s\S]*consumed 20 items/);
    expect(cellText(cellWith(nb, "const report"))).toContain("the consumer reports 20 items, sum of squares 2870");
    amdahlIsSane(nb);
    expect(mimeTypes(cellWith(nb, "Speedup over one worker"))).toContain(VEGA_LITE);
    const recovered = cellWith(nb, "crashedOnce.compareExchange");
    expect(cellText(recovered)).toMatch(/\[\s*10,\s*20,\s*30,\s*40,\s*50,\s*60\s*\]/);
    const killed = cellText(cellWith(nb, 'process.kill(process.pid, "SIGKILL")'));
    expect(killed).toMatch(/worker \d/);
    expect(killed).toMatch(/item 1\b/);
    expect(killed).toContain("SIGKILL");
    // A real interrupt of a running %%pool map (the kernel's, as from the stop button), then the
    // library's pool.interrupt(), then a per-task time limit: each stops the endless tasks...
    const interrupted = cellWith(nb, "process.kill(kernelPid");
    expect(errorsOf(interrupted).map((e) => e.ename)).toEqual(["Interrupted"]);
    expect(cellText(cellWith(nb, "pool.interrupt()"))).toMatch(/InterruptedError: the task was interrupted \(worker \d, item \d\)/);
    const timedOut = cellWith(nb, "--timeout 500");
    expect(errorsOf(timedOut).map((e) => e.ename)).toEqual(["TaskTimeoutError"]);
    expect(cellText(timedOut)).toMatch(/worker \d/);
    // ... and the same worker processes kept their state through all three.
    const before = [...cellText(cellWith(nb, "remembered = ")).matchAll(/state of pid (\d+)/g)].map((m) => m[1]);
    const after = [...cellText(cellWith(nb, "now running in pid")).matchAll(/state of pid (\d+), now running in pid (\d+)/g)];
    expect(before.length).toBe(2);
    expect(after.map((m) => m[1])).toEqual(before);
    expect(after.map((m) => m[2])).toEqual(before);
    expect(cellText(cellWith(nb, "%timeit -n 1 -r 3 parallelPart.map"))).toMatch(/±/);
    expect(cellText(cellWith(nb, "%timeit -n 1 -r 3 await pool.map"))).toMatch(/±/);
  },

  "04-reproducible-notebooks.ipynb"(nb) {
    noErrors(nb);
    // The versions are recorded and checked against what tspool declares (and, in tspool's
    // repository, against package-lock.json's entry for the TypeScript tspool uses).
    const versions = cellText(cellWith(nb, "const versions"));
    expect(versions).toMatch(/typescript: '5\.9\./);
    expect(versions).toMatch(/^node [\d.]+: matches >=20\.12 \(tspool's engines\)$/m);
    expect(versions).toMatch(/^typescript 5\.9\.\d+: matches ~5\.9\.\d+ \(tspool's dependencies\)$/m);
    expect(versions).toMatch(/^typescript (5\.9\.\d+): matches \1 \(package-lock\.json: node_modules\/typescript\)$/m);
    expect(cellText(cellWith(nb, "%%pool map tasks --out withTwo"))).toMatch(/worker 1\b/);
    const verdict = cellText(cellWith(nb, "const identical"));
    expect(verdict).toContain("identical across worker counts and orders: true");
    const estimates = verdict.match(/π ≈ [0-9.]+ \(\d+ of 1600000 inside\)/g) ?? [];
    expect(estimates.length).toBe(3);
    expect(new Set(estimates).size).toBe(1);
    expect(Math.abs(Number(estimates[0].slice(4, 12)) - Math.PI)).toBeLessThan(0.01);
  },
};
