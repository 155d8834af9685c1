"""Kernel benchmark: tspool against tslab and Deno's kernel, driven by the reference client (jupyter_client) in one run.

Measures, for each kernel, over several launches (medians reported):
  - launch-to-ready: from starting the kernel process to its first kernel_info_reply, and to the
    end of its first cell (which also pays for loading the type checker);
  - trivial-cell round trip: execute_request of `1 + 1` until the iopub status idle for it (p50, p99);
  - memory after N cells: resident set size of the kernel's whole process tree.
Then a short behaviour comparison of the same kernels (behaviour.py: type errors, cross-cell checking,
interrupt, execute_result, completion), recorded under the table.

Deno is not a dependency: deno_peer.py fetches it with npm into ~/.cache/tspool-bench/deno on first use
(--deno-cache to choose another place); if that fails the bench says so and measures the others.

Usage: python3 bench/kernel/bench_kernel.py [--runs 3] [--cells 300] [--memory-cells 1000] [--out FILE.md]
       [--kernels tspool,tslab-bench,deno-bench] [--deno-cache DIR] [--no-behaviour | --behaviour-only]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import behaviour  # noqa: E402
from deno_peer import default_cache_dir, find_or_fetch_deno, write_deno_spec  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKDIR = tempfile.mkdtemp(prefix="tspool-bench-cwd-")


def tree_rss_bytes(pid):
    """Sum of VmRSS over pid and all its descendants (Linux /proc)."""
    pids, frontier = [pid], [pid]
    while frontier:
        p = frontier.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        pids += kids
        frontier += kids
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def write_specs(prefix, with_tspool):
    """tspool's spec through its own installer; tslab's written as `tslab install` would, pointing at the local copy."""
    if with_tspool:
        subprocess.run([shutil.which("node"), os.path.join(ROOT, "dist", "cli.js"), "install", "--prefix", prefix],
                       check=True, capture_output=True)
    tslab_dir = os.path.join(prefix, "share", "jupyter", "kernels", "tslab-bench")
    os.makedirs(tslab_dir, exist_ok=True)
    with open(os.path.join(tslab_dir, "kernel.json"), "w") as f:
        json.dump({
            "argv": [shutil.which("node"), os.path.join(ROOT, "node_modules", "tslab", "bin", "tslab"),
                     "kernel", "--config-path", "{connection_file}"],
            "display_name": "tslab (bench)",
            "language": "typescript",
        }, f)


LOST_IDLE = {"count": 0}


def run_cell(kc, code, timeout=30):
    """Round trip of one cell: until both its execute_reply and its iopub idle status arrived.

    tslab sometimes never sends the idle (a known bug); then the reply alone ends the wait after a
    grace period and the loss is counted, so that a lost message cannot hang the benchmark."""
    msg_id = kc.execute(code, store_history=True)
    deadline = time.monotonic() + timeout
    got_reply = got_idle = False
    reply_at = None
    while not (got_reply and got_idle):
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"no reply to {code!r} within {timeout}s")
        if got_reply and now - reply_at > 2.0:
            LOST_IDLE["count"] += 1
            return
        if not got_reply:
            try:
                reply = kc.get_shell_msg(timeout=0.001 if not got_idle else 0.5)
                if reply["parent_header"].get("msg_id") == msg_id:
                    got_reply, reply_at = True, time.monotonic()
            except Exception:
                pass
        if not got_idle:
            try:
                msg = kc.get_iopub_msg(timeout=0.001 if not got_reply else 0.1)
                if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                        and msg["content"]["execution_state"] == "idle"):
                    got_idle = True
            except Exception:
                pass


def one_launch(kernel_name, cells, memory_cells):
    km = KernelManager(kernel_name=kernel_name)
    t0 = time.perf_counter()
    km.start_kernel(cwd=WORKDIR)  # a neutral directory: tslab would read the project's tsconfig.json
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    ready_ms = (time.perf_counter() - t0) * 1000
    try:
        run_cell(kc, "1 + 1", timeout=60)  # the first cell also pays for the type checker's start
        first_cell_ms = (time.perf_counter() - t0) * 1000
        for _ in range(5):  # warm-up, not measured
            run_cell(kc, "1 + 1")
        times = []
        for _ in range(cells):
            t = time.perf_counter()
            run_cell(kc, "1 + 1")
            times.append((time.perf_counter() - t) * 1000)
        for i in range(max(0, memory_cells - cells - 5)):
            run_cell(kc, f"const v{i} = {i} * 2; v{i}")
        rss = tree_rss_bytes(km.provisioner.process.pid)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    lost = LOST_IDLE["count"]
    LOST_IDLE["count"] = 0
    return {"ready_ms": ready_ms, "first_cell_ms": first_cell_ms, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "rss_mb": rss / 2**20,
            "lost_idle": lost}


LABELS = {"tspool": "tspool", "tslab-bench": "tslab", "deno-bench": "deno"}
METRICS = (("ready_ms", "launch to ready: first kernel_info_reply (ms)"),
           ("first_cell_ms", "launch to first cell's result (ms)"), ("p50_ms", "trivial cell p50 (ms)"),
           ("p99_ms", "trivial cell p99 (ms)"))


def tslab_version():
    try:
        with open(os.path.join(ROOT, "node_modules", "tslab", "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def load_average():
    return "{:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def table(results, args, versions):
    """Markdown table: a column per measured kernel, and each peer's ratio to tspool."""
    names = list(results)
    head = ["metric"]
    for n in names:
        head.append(f"{LABELS.get(n, n)} {versions.get(n, '')}".strip())
        if n != "tspool":
            head.append(f"{LABELS.get(n, n)} / tspool")
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    metrics = METRICS + (("rss_mb", f"RSS after {args.memory_cells} cells (MB)"),)
    for key, label in metrics:
        row = [label]
        for n in names:
            row.append(f"{results[n][key]:.1f}")
            if n != "tspool":
                row.append(f"{results[n][key] / results['tspool'][key]:.2f}x" if results["tspool"][key] else "")
        lines.append("| " + " | ".join(row) + " |")
    row = ["iopub idle messages lost (median per launch)"]
    for n in names:
        row.append(f"{results[n]['lost_idle']:.0f}")
        if n != "tspool":
            row.append("")
    lines.append("| " + " | ".join(row) + " |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cells", type=int, default=300)
    ap.add_argument("--memory-cells", type=int, default=1000)
    ap.add_argument("--kernels", default="tspool,tslab-bench,deno-bench",
                    help="comma-separated (a subset is for trying things out)")
    ap.add_argument("--deno-cache", default=default_cache_dir(),
                    help="where Deno is installed with npm on first use (outside the repository)")
    ap.add_argument("--no-behaviour", action="store_true", help="skip the behaviour comparison")
    ap.add_argument("--behaviour-only", action="store_true", help="only the behaviour comparison, no timings")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "kernel.md"))
    args = ap.parse_args()
    kernels = [k for k in args.kernels.split(",") if k]
    prefix = tempfile.mkdtemp(prefix="tspool-bench-")
    write_specs(prefix, "tspool" in kernels)
    versions = {"tslab-bench": tslab_version()}
    notes = []
    if "deno-bench" in kernels:
        binary, version = find_or_fetch_deno(args.deno_cache)
        if binary:
            write_deno_spec(prefix, binary)
            versions["deno-bench"] = version.replace("deno ", "")
            print(f"deno: {version} at {binary}", flush=True)
        else:
            print(f"NOTE: Deno is not measured in this run: {version}", file=sys.stderr, flush=True)
            notes.append(f"Deno was not measured in this run: {version}.")
            kernels.remove("deno-bench")
    os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share", "jupyter")
    os.environ["TSPOOL_HISTORY_FILE"] = os.path.join(prefix, "history.jsonl")
    load_before = load_average()
    results = {}
    if not args.behaviour_only:
        for name in kernels:
            runs = []
            for r in range(args.runs):  # the same client, the same cells, one machine, one run
                res = one_launch(name, args.cells, args.memory_cells)
                print(name, r, {k: round(v, 2) for k, v in res.items()}, flush=True)
                runs.append(res)
            results[name] = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
    load_after = load_average()
    rows = None
    if not args.no_behaviour:
        rows = behaviour.compare([(n, f"{LABELS.get(n, n)} {versions.get(n, '')}".strip()) for n in kernels], WORKDIR)
    lines = [f"## Kernel benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", ""]
    if results and "tspool" in results:
        lines += [
            f"jupyter_client driving each kernel; medians of {args.runs} launches; {args.cells} trivial cells (`1 + 1`) "
            f"per launch for latency; memory is the RSS of the kernel's process tree after {args.memory_cells} cells. "
            f"Load average (1, 5, 15 min) {load_before} before the timings, {load_after} after.",
            "",
        ] + table(results, args, versions) + [""]
    elif results:
        print(json.dumps(results, indent=1))
    if rows:
        lines += ["Behaviour comparison (bench/kernel/behaviour.py, same run):", ""] + behaviour.markdown(rows) + [""]
    lines += notes
    print("\n".join(lines))
    if (results and "tspool" in results) or rows:
        with open(args.out, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
