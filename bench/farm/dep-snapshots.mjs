// What dependency snapshots cost: a task using a 3M-element array of numbers, on 2 workers.
//   - first call: the data is serialized and sent to each worker (as for a changed value);
//   - same data again: the data is digested (to find it unchanged), nothing is sent, and each
//     worker installs a fresh copy of what it holds (so that no call sees what an earlier one did).
// Usage: npm run build && node bench/farm/dep-snapshots.mjs [--threads]
import { Pool } from "../../dist/farm/index.js";

const threads = process.argv.includes("--threads");
const N = 3_000_000;
const RUNS = 5;
const big = Array.from({ length: N }, (_, i) => i * 1.5);
const task = (value) => ({ fn: "() => big.length + big[1]", deps: [{ name: "big", value }] });

const pool = new Pool({ workers: 2, threads });
try {
  await pool.run(() => 0);
  const time = async (value) => {
    const t = performance.now();
    await pool.run(task(value));
    return performance.now() - t;
  };
  const sent = [];
  const again = [];
  for (let r = 0; r < RUNS; r++) {
    big[0] = r; // changed: sent in full
    sent.push(await time(big));
    for (let i = 0; i < 3; i++) again.push(await time(big)); // unchanged: a fresh copy from what the workers hold
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${threads ? "thread" : "process"} workers, ${N.toLocaleString("en")} numbers, medians of ${RUNS} and ${again.length} calls:`);
  console.log(`  data changed (sent to each worker): ${median(sent).toFixed(0)} ms`);
  console.log(`  data unchanged (fresh copy there):  ${median(again).toFixed(0)} ms`);
} finally {
  await pool.terminate();
}
