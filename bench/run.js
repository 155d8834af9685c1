// `npm run bench`: every benchmark against its peers, one after the other (they must not share the
// two cores), each appending its figures to bench/results/*.md. Pass --quick for a short trial run
// that prints figures without recording them.
import { spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const quick = process.argv.includes("--quick");

// ipyparallel comes from Debian (python3-ipyparallel, for the system's /usr/bin/python3), which may not be
// the python3 first on PATH: use the first Python that has it (else python3, whose bench explains what to install).
const pythonWithIpyparallel = ["python3", "/usr/bin/python3"].find(
  (py) => spawnSync(py, ["-c", "import ipyparallel, ipykernel, jupyter_client"], { stdio: "ignore" }).status === 0,
) ?? "python3";

const suites = [
  { name: "farm vs worker-farm, piscina, workerpool, multiprocessing", cmd: process.execPath,
    args: ["bench/farm/run.mjs", ...(quick ? ["--quick"] : [])] },
  { name: "sync primitives: lock and queue round trips", cmd: process.execPath,
    args: ["bench/farm-sync/lock-roundtrips.mjs", ...(quick ? [] : ["--md"])],
    appendTo: quick ? null : "bench/results/farm-sync.md" }, // this one prints its table rather than recording it
  { name: "kernel vs tslab and Deno (Deno fetched into ~/.cache/tspool-bench on first use)", cmd: "python3",
    args: ["bench/kernel/bench_kernel.py", ...(quick ? ["--runs", "1", "--cells", "100", "--memory-cells", "200", "--out", "/dev/null"] : [])] },
  { name: "%%pool map vs multiprocessing, and vs serial", cmd: "python3",
    args: ["bench/pool-magic/bench_pool_magic.py", ...(quick ? ["--runs", "1", "--cpu-runs", "1", "--out", "/dev/null"] : [])] },
  { name: "the pool vs ipyparallel (start-up, maps, CPU-bound efficiency, behaviours)", cmd: pythonWithIpyparallel,
    args: ["bench/ipyparallel/bench_ipyparallel.py", ...(quick ? ["--runs", "1", "--cpu-runs", "1", "--out", "/dev/null"] : [])] },
];

let failed = 0;
for (const s of suites) {
  console.log(`\n=== ${s.name}: ${[path.basename(s.cmd), ...s.args].join(" ")}`);
  const r = spawnSync(s.cmd, s.args, { cwd: root, stdio: ["ignore", s.appendTo ? "pipe" : "inherit", "inherit"], encoding: "utf8" });
  if (s.appendTo && r.status === 0) {
    process.stdout.write(r.stdout);
    appendFileSync(path.join(root, s.appendTo), `\n${r.stdout}`);
  }
  if (r.status !== 0) {
    failed++;
    console.error(`=== ${s.name} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
  }
}
process.exit(failed ? 1 : 0);
