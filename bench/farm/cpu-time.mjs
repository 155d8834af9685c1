// CPU time per sum(1..5e7) inside tspool process workers versus 2 bare forked
// children, measured by the task itself with process.cpuUsage(). Unlike wall-clock efficiency this
// hardly depends on what else the shared machine runs, so it isolates per-item overhead inside a
// worker. (Thread workers are left out: process.cpuUsage() counts the whole process, and Node 20
// has no per-thread figure.) Rounds alternate between the two so drifting load hits all of them alike.
//
//   node bench/farm/cpu-time.mjs [rounds=5]      prints the median CPU ms per sum of each
import { fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "../../dist/farm/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const N = 5e7;
const rounds = Number(process.argv[2] ?? 5);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const sumCpu = function sumTo(n) { const c = process.cpuUsage(); let s = 0; for (let i = 1; i <= n; i++) s += i; const d = process.cpuUsage(c); return s > 0 ? d.user + d.system : -1; };

async function tspool() {
  const pool = new Pool({ workers: 2 });
  await pool.map(sumCpu, Array(8).fill(N));
  return { run: async () => Array.from(await pool.map(sumCpu, Array(8).fill(N))), close: () => pool.terminate() };
}

async function bare() {
  const ch = [0, 1].map(() => fork(join(here, "tasks", "cpu-time-fork-child.cjs"), [], { serialization: "advanced" }));
  const run = () => Promise.all(ch.map((c) => new Promise((res) => { c.once("message", res); c.send(Array(4).fill(N)); }))).then((a) => a.flat());
  await run();
  return { run, close: async () => ch.forEach((c) => c.disconnect()) };
}

const subjects = { "tspool (processes)": await tspool(), "2 bare forked children": await bare() };
const seen = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) for (const [k, s] of Object.entries(subjects)) seen[k].push(...(await s.run()));
for (const s of Object.values(subjects)) await s.close();
for (const [k, us] of Object.entries(seen)) console.log(`${k}: ${(median(us) / 1000).toFixed(2)} ms CPU per sum (median of ${us.length})`);
