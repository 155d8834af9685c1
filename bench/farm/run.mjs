// Farm benchmarks, side by side in one run: tspool (process and thread workers), piscina,
// workerpool, worker-farm and Python's multiprocessing.Pool, all with 2 workers.
//
//   node bench/farm/run.mjs            full run (about 3-4 minutes), appends to bench/results/farm.md
//   node bench/farm/run.mjs --quick    fewer repetitions, prints only
//   node bench/farm/run.mjs --cpu      only the CPU-bound table (with its references), prints only
//
// Figures are medians of several runs. Timings include everything the caller waits for
// (shipping items, running, collecting results in order).
import { fork, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "../../dist/farm/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);
const cpuOnly = process.argv.includes("--cpu");
const quick = process.argv.includes("--quick") || cpuOnly;
const R = quick ? { tiny20k: 5, tiny1m: 3, cpu: 2, first: 3, death: 3, others20k: 1 } : { tiny20k: 15, tiny1m: 7, cpu: 5, first: 7, death: 5, others20k: 3 };
const SUM_N = 5e7;
const CPU_TASKS = 8;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const log = (...a) => console.error("[bench]", ...a);
const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};
function sumTo(n) { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; }
const square = (x) => x * x;

async function timeRuns(reps, fn) {
  const t = [];
  for (let i = 0; i < reps; i++) { const t0 = now(); await fn(); t.push(now() - t0); }
  return median(t);
}

function python(args, timeoutMs) {
  const r = spawnSync("python3", [join(here, "mp_bench.py"), ...args], { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
  if (r.status !== 0 || !r.stdout.trim()) return { hung: r.signal === "SIGKILL", error: (r.stderr || r.error?.message || "").slice(-300) };
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

// ------------------------------------------------------------------ per-library adapters
const libs = {
  async "tspool (processes)"() { return tspoolAdapter(false); },
  async "tspool (threads)"() { return tspoolAdapter(true); },
  async piscina() {
    const { Piscina } = await import("piscina");
    const mk = (file) => new Piscina({ filename: join(here, "tasks", file), minThreads: 2, maxThreads: 2 });
    const sq = mk("square-piscina.cjs");
    const sum = mk("sum-piscina.cjs");
    return {
      map: (items) => Promise.all(items.map((x) => sq.run(x))),
      one: () => sq.run(1),
      cpu: (ns) => Promise.all(ns.map((n) => sum.run(n))),
      async first() { const t0 = now(); const p = mk("square-piscina.cjs"); await p.run(2); const ms = now() - t0; await p.destroy(); return ms; },
      close: async () => { await sq.destroy(); await sum.destroy(); },
    };
  },
  async workerpool() {
    const workerpool = require("workerpool");
    const script = join(here, "tasks", "workerpool-worker.cjs");
    const mk = () => workerpool.pool(script, { minWorkers: 2, maxWorkers: 2, workerType: "process" });
    const pool = mk();
    return {
      map: (items) => Promise.all(items.map((x) => pool.exec("square", [x]))),
      one: () => pool.exec("square", [1]),
      cpu: (ns) => Promise.all(ns.map((n) => pool.exec("sum", [n]))),
      async first() { const t0 = now(); const p = mk(); await p.exec("one", []); const ms = now() - t0; await p.terminate(true); return ms; },
      async rss() {
      const p = mk();
      await Promise.all(Array.from({ length: 1000 }, (_, i) => p.exec("square", [i])));
      await sleep(200);
      const mb = p.workers.map((w) => w.worker?.pid).filter(Boolean).map(rssMb);
      await p.terminate(true);
      return mb;
    },
      close: () => pool.terminate(true),
    };
  },
  async "worker-farm"() {
    const workerFarm = require("worker-farm");
    const file = join(here, "tasks", "worker-farm-tasks.cjs");
    const opts = { maxConcurrentWorkers: 2, maxConcurrentCallsPerWorker: Infinity, maxRetries: 0 };
    const mk = () => workerFarm(opts, file, ["square", "sum", "one"]);
    const w = mk();
    const call = (f, x) => new Promise((res, rej) => f(x, (e, v) => (e ? rej(e) : res(v))));
    return {
      map: (items) => Promise.all(items.map((x) => call(w.square, x))),
      one: () => call(w.square, 1),
      cpu: (ns) => Promise.all(ns.map((n) => call(w.sum, n))),
      async first() { const t0 = now(); const f = mk(); await call(f.one, 0); const ms = now() - t0; workerFarm.end(f); return ms; },
      async rss() {
        const f = mk();
        await Promise.all(Array.from({ length: 1000 }, (_, i) => call(f.square, i)));
        const pids = new Set();
        for (let i = 0; i < 20 && pids.size < 2; i++) pids.add(await call(f.one, 0));
        await sleep(200);
        const mb = [...pids].map(rssMb);
        workerFarm.end(f);
        return mb;
      },
      close: () => workerFarm.end(w),
    };
  },
};

async function tspoolAdapter(threads) {
  const pool = new Pool({ workers: 2, threads });
  await pool.run(() => 0);
  // how the CPU-bound map was spread: items per worker and the idle tail (first worker done to last)
  let split = null;
  pool.on("task", (e) => {
    if (!split || e.kind !== "map" || e.phase !== "finish" || e.outcome !== "ok" || !e.range) return;
    split.items[e.workerId] = (split.items[e.workerId] ?? 0) + (e.range[1] - e.range[0]);
    split.lastDone[e.workerId] = now();
  });
  return {
    map: (items) => pool.map((x) => x * x, items),
    one: () => pool.apply((x) => x * x, [1]),
    async cpu(ns) {
      split = { items: [], lastDone: [] };
      const r = await pool.map(function sumTo(n) { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; }, ns);
      const done = split.lastDone.filter((t) => t !== undefined);
      this.lastSplit = { items: split.items.map((x) => x ?? 0), tailMs: Math.max(...done) - Math.min(...done) };
      split = null;
      return r;
    },
    lastSplit: null,
    async first() { const t0 = now(); const p = new Pool({ workers: 2, threads }); await p.apply(() => 1); const ms = now() - t0; await p.terminate(); return ms; },
    async rss() {
      if (threads) return null;
      // a fresh pool after a small map, as for the other libraries
      const p = new Pool({ workers: 2 });
      await p.map((x) => x * x, Array.from({ length: 1000 }, (_, i) => i));
      await sleep(200);
      const mb = p.status().workers.map((w) => rssMb(w.pid));
      await p.terminate();
      return mb;
    },
    async death() {
      const t = [];
      for (let i = 0; i < R.death; i++) {
        const victim = pool.status().workers[1];
        const t0 = now();
        if (threads) {
          // a thread cannot be SIGKILLed alone: it exits abruptly instead
          void pool.run(() => process.exit(9), { targets: [1] }).catch(() => {});
        } else process.kill(victim.pid, "SIGKILL");
        for (let k = 0; k < 200; k++) {
          const ids = await pool.run(async () => { const wt = await import("node:worker_threads"); return [process.pid, wt.threadId]; }, { targets: [1] }).catch(() => null);
          if (ids && (threads ? ids[0][1] !== victim.threadId : ids[0][0] !== victim.pid)) break;
        }
        t.push(now() - t0);
        await sleep(50);
      }
      return median(t);
    },
    close: () => pool.terminate(),
  };
}

/** CPU-bound: serial and parallel runs alternate, so that each pair sees the same machine load. */
async function measureCpu(name, lib) {
  const sums = await lib.cpu(Array(CPU_TASKS).fill(SUM_N));
  if (sums.length !== CPU_TASKS || sums.some((v) => v !== sumTo(SUM_N))) throw new Error(`${name} computed wrong sums: ${sums}`);
  const par = [], ser = [], eff = [], splits = [];
  for (let r = 0; r < R.cpu; r++) {
    const s0 = now();
    for (let k = 0; k < CPU_TASKS; k++) sumTo(SUM_N);
    const s = now() - s0;
    const p0 = now();
    await lib.cpu(Array(CPU_TASKS).fill(SUM_N));
    const p = now() - p0;
    ser.push(s); par.push(p); eff.push(s / (p * 2));
    if (lib.lastSplit) splits.push(lib.lastSplit);
  }
  const out = { parallel: median(par), serial: median(ser), efficiency: median(eff), runs: eff.length };
  if (splits.length) {
    out.split = [...new Set(splits.map((x) => x.items.join("/")))].join(", ");
    out.tailMs = median(splits.map((x) => x.tailMs));
  }
  return out;
}

/** The CPU-bound reference with no pool at all: 2 bare forked children, 4 sums sent to each at once. */
async function bareForkCpu() {
  const children = [0, 1].map(() => fork(join(here, "tasks", "sum-fork-child.cjs"), [], { serialization: "advanced" }));
  const ask = (c, ns) => new Promise((resolve) => { c.once("message", resolve); c.send(ns); });
  const lib = {
    async cpu(ns) {
      const half = Math.ceil(ns.length / 2);
      const parts = await Promise.all(children.map((c, i) => ask(c, ns.slice(i * half, (i + 1) * half))));
      return parts.flat();
    },
  };
  await lib.cpu(Array(CPU_TASKS).fill(SUM_N)); // both children compiled and warm
  const r = await measureCpu("bare fork", lib);
  r.split = "4/4 (fixed)";
  for (const c of children) c.kill();
  return r;
}

// ------------------------------------------------------------------ the run
const results = { tiny: {}, cpu: {}, first: {}, rss: {}, death: {}, rtt: {} };
const items20k = Array.from({ length: 20_000 }, (_, i) => i);
const items1m = Array.from({ length: 1_000_000 }, (_, i) => i);
const items100k = items1m.slice(0, 100_000);

sumTo(1000);

const loadAtStart = os.loadavg()[0];
for (const [name, make] of Object.entries(libs)) {
  if (cpuOnly && !name.startsWith("tspool")) continue;
  log(name);
  const lib = await make();
  const mine = name.startsWith("tspool");
  if (cpuOnly) {
    await lib.cpu(Array(CPU_TASKS).fill(SUM_N));
    results.cpu[name] = await measureCpu(name, lib);
    await lib.close();
    continue;
  }
  // warm-up (a JIT needs a few rounds to settle on both sides), then check the answer once
  for (let i = 0; i < (mine ? 20 : 0); i++) await lib.map(items20k);
  const check = await lib.map(items20k);
  if (check[19_999] !== 19_999 ** 2) throw new Error(`${name} returned a wrong result`);
  const t20k = await timeRuns(mine ? R.tiny20k : R.others20k, () => lib.map(items20k));
  let t1m;
  let oneMillionNote = "";
  if (mine) t1m = await timeRuns(R.tiny1m, () => lib.map(items1m));
  else {
    // one message per item: 1,000,000 items would take minutes, so the rate is measured on 100,000
    t1m = (await timeRuns(1, () => lib.map(items100k))) * 10;
    oneMillionNote = " (rate measured on 100,000 items)";
  }
  results.tiny[name] = { "20000": t20k, "1000000": t1m, note: oneMillionNote };
  // latency of one call, awaited before the next
  const rtts = [];
  for (let i = 0; i < 300; i++) { const t0 = now(); await lib.one(); rtts.push(now() - t0); }
  results.rtt[name] = median(rtts);
  results.cpu[name] = await measureCpu(name, lib);
  const firsts = [];
  for (let i = 0; i < R.first; i++) firsts.push(await lib.first());
  results.first[name] = median(firsts);
  if (lib.rss) results.rss[name] = await lib.rss();
  if (lib.death) results.death[name] = await lib.death();
  await lib.close();
}

log("CPU-bound references: bare forked children, Python");
const bareFork = "2 bare child_process.fork children, no pool (reference)";
results.cpu[bareFork] = await bareForkCpu();
const py = "Python multiprocessing.Pool";
const pyCpu = python(["cpu", JSON.stringify({ n: SUM_N, tasks: CPU_TASKS, reps: Math.min(R.cpu, 3) })], 300_000);
const pyCpuRow = pyCpu.result ? { ...pyCpu.result, serial: pyCpu.result.serial * 1000, parallel: pyCpu.result.parallel * 1000, runs: Math.min(R.cpu, 3), note: "sum(range(1, n + 1)) in CPython: its own serial time" } : null;
const loadAfterCpu = os.loadavg()[0];
if (cpuOnly) {
  if (pyCpuRow) results.cpu[py] = pyCpuRow;
  console.log(JSON.stringify({ loadAtStart, loadAfterCpu, cpu: results.cpu }, null, 2));
  process.exit(0);
}
log("python multiprocessing");
const pyTiny = python(["tiny", JSON.stringify({ "20000": R.tiny20k, "1000000": Math.max(3, R.tiny1m >> 1) })], 180_000);
if (pyTiny.result) results.tiny[py] = { "20000": pyTiny.result["20000"] * 1000, "1000000": pyTiny.result["1000000"] * 1000, note: "" };
const pyFirst = python(["first"], 60_000);
if (pyFirst.result !== undefined) results.first[py] = pyFirst.result * 1000;
const pyRss = python(["rss"], 60_000);
if (pyRss.result) results.rss[py] = pyRss.result;
const pyDeaths = [];
let pyHung = 0;
for (let i = 0; i < 3; i++) {
  const d = python(["death"], 8_000);
  if (d.result !== undefined) pyDeaths.push(d.result * 1000);
  else pyHung++;
}
results.death[py] = { ms: pyDeaths.length ? median(pyDeaths) : null, hung: pyHung, tries: 3 };

// ------------------------------------------------------------------ report
const fmtRate = (n, ms) => `${(n / ms / 1000).toFixed(2)} M/s`;
const lines = [];
lines.push(`\n## ${new Date().toISOString()}${quick ? " (quick)" : ""}`);
lines.push(`\nNode ${process.version}, Python ${pyTiny.python ?? "?"}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load average at start ${os.loadavg()[0].toFixed(2)}; 2 workers everywhere; medians.`);
lines.push(`\n### Tiny tasks: map(x => x * x), automatic chunking where the library has it\n`);
lines.push(`| library | n = 20,000 | items/s | n = 1,000,000 | items/s |`);
lines.push(`| --- | ---: | ---: | ---: | ---: |`);
for (const [name, r] of Object.entries(results.tiny)) {
  lines.push(`| ${name} | ${r["20000"].toFixed(1)} ms | ${fmtRate(20_000, r["20000"])} | ${r["1000000"].toFixed(0)} ms${r.note ? "*" : ""} | ${fmtRate(1_000_000, r["1000000"])} |`);
}
lines.push(`\n\\* one message per item; the 1,000,000 figure is 10 x the time for 100,000 items.`);
if (pyCpuRow) results.cpu[py] = pyCpuRow;
lines.push(`\n### CPU-bound: ${CPU_TASKS} x sum(1..${SUM_N.toExponential()}), each parallel run right after a serial run in this thread\n`);
lines.push(`Load average ${loadAtStart.toFixed(2)} before the first library, ${loadAfterCpu.toFixed(2)} after the CPU references. The last two rows show what this machine allows: no pool at all, and Python's pool (whose serial time is CPython's own).\n`);
lines.push(`| library | serial | parallel | efficiency = serial / (parallel x 2) | items per worker, idle tail |`);
lines.push(`| --- | ---: | ---: | ---: | --- |`);
for (const [name, c] of Object.entries(results.cpu)) {
  const split = c.split ? `${c.split}${c.tailMs !== undefined ? `, ${c.tailMs.toFixed(1)} ms` : ""}` : "";
  lines.push(`| ${name} | ${c.serial.toFixed(0)} ms | ${c.parallel.toFixed(0)} ms | ${(c.efficiency * 100).toFixed(1)}% | ${split} |`);
}
lines.push(`\n### Pool start to first result (2 workers), RSS per worker (fresh pool after a 1,000-item map), worker death to replacement taking work\n`);
lines.push(`| library | start to first result | one call, round trip | RSS per worker | death to replacement working |`);
lines.push(`| --- | ---: | ---: | ---: | ---: |`);
for (const name of Object.keys(results.first)) {
  const rss = results.rss[name];
  const d = results.death[name];
  let death = "n/a";
  if (typeof d === "number") death = `${d.toFixed(0)} ms`;
  else if (d && typeof d === "object") death = `${d.ms === null ? "never" : `${d.ms.toFixed(0)} ms`}${d.hung ? ` (hung in ${d.hung} of ${d.tries} tries: the killed worker held the task queue's lock)` : ""}`;
  const rtt = results.rtt[name] === undefined ? "n/a" : `${results.rtt[name].toFixed(3)} ms`;
  lines.push(`| ${name} | ${results.first[name].toFixed(0)} ms | ${rtt} | ${rss ? rss.map((x) => `${x.toFixed(1)} MB`).join(", ") : "n/a (threads share the process)"} | ${death} |`);
}
const t = results.tiny["tspool (processes)"];
const p = results.tiny[py];
const goals = [
  ["tiny-task throughput >= Python's (20k / 1M)", p ? `${(p["20000"] / t["20000"]).toFixed(1)}x / ${(p["1000000"] / t["1000000"]).toFixed(1)}x Python's rate` : "python unavailable"],
  ["CPU efficiency >= 95% (processes)", `${(results.cpu["tspool (processes)"].efficiency * 100).toFixed(1)}%`],
  ["first result <= 100 ms (2 process workers)", `${results.first["tspool (processes)"].toFixed(0)} ms`],
  ["RSS <= 60 MB per process worker", results.rss["tspool (processes)"].map((x) => `${x.toFixed(1)} MB`).join(", ")],
];
lines.push(`\n### Goals (tspool, process workers)\n`);
for (const [g, v] of goals) lines.push(`- ${g}: ${v}`);
const report = lines.join("\n") + "\n";
console.log(report);
if (!quick) {
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  appendFileSync(join(root, "bench", "results", "farm.md"), report);
  log("appended to bench/results/farm.md");
}
