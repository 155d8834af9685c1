// Lock acquire/release round trips per second, and Queue put+get pairs per second, for the
// main program alone, thread workers (Atomics on shared memory) and process workers (every
// operation is a call the parent serves), uncontended (one worker) and contended (2 workers
// on the same lock). Usage: npm run build && node bench/farm-sync/lock-roundtrips.mjs [--md]
import { availableParallelism, cpus } from "node:os";
import { Pool, Lock, Queue } from "../../dist/farm/index.js";

const DURATION_MS = 1000;

/** Runs in a worker (or here): acquire/release as often as possible for `ms`; returns the count. */
const lockLoop = async (lock, ms) => {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      await lock.acquire();
      await lock.release();
    }
    n += 100;
  }
  return n;
};
/** put then get on one queue, as often as possible for `ms`. */
const queueLoop = async (q, ms) => {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) {
      await q.put(i);
      await q.get();
    }
    n += 20;
  }
  return n;
};

async function inWorkers(threads, workers, loop, makePrimitive) {
  const pool = new Pool({ workers, threads });
  try {
    const prim = makePrimitive();
    await pool.run(loop, { args: [prim, 100] }); // warm-up: code shipped, handle exposed, JIT
    const counts = await pool.run(loop, { args: [prim, DURATION_MS] });
    return counts.reduce((a, b) => a + b, 0) / (DURATION_MS / 1000);
  } finally {
    await pool.terminate();
  }
}

const rows = [];
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

{
  const lock = new Lock();
  await lockLoop(lock, 100);
  rows.push(["Lock acquire+release", "main program only", 1, (await lockLoop(lock, DURATION_MS)) / (DURATION_MS / 1000)]);
}
for (const threads of [true, false]) {
  const kind = threads ? "thread workers" : "process workers";
  for (const workers of [1, 2]) {
    rows.push(["Lock acquire+release", kind, workers, await inWorkers(threads, workers, lockLoop, () => new Lock())]);
  }
}
{
  const q = new Queue();
  await queueLoop(q, 100);
  rows.push(["Queue put+get", "main program only", 1, (await queueLoop(q, DURATION_MS)) / (DURATION_MS / 1000)]);
}
for (const threads of [true, false]) {
  rows.push(["Queue put+get", threads ? "thread workers" : "process workers", 1, await inWorkers(threads, 1, queueLoop, () => new Queue())]);
}

const md = process.argv.includes("--md");
if (md) {
  console.log(`Measured on ${cpus()[0]?.model ?? "?"} (${availableParallelism()} cores available), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${DURATION_MS} ms per row.\n`);
  console.log("| operation | where | workers | round trips / s (all workers) |");
  console.log("|---|---|---:|---:|");
  for (const [op, where, w, rate] of rows) console.log(`| ${op} | ${where} | ${w} | ${fmt(rate)} |`);
} else {
  for (const [op, where, w, rate] of rows) console.log(`${op.padEnd(22)} ${where.padEnd(18)} workers=${w}  ${fmt(rate)}/s`);
}
