"""ipyparallel against tspool's pool, side by side in one run, each driven through jupyter_client the
way a notebook drives it: ipyparallel from an IPython kernel, tspool from the tspool kernel.

Figures (client wall time from execute_request to the cell's idle, median of --runs runs after a
warm-up, the two systems alternating so that a change in the machine's load hits both alike):
  1. start to a ready pool of 2: `ipp.Cluster(n=2).start_and_connect_sync()` vs `%pool start 2`,
     and start to the first result (then `dv.apply_sync(lambda: 1)` vs a first `%%pool map [1, 2]`);
  2. x -> x * x over 20,000 and over 1,000,000 items: `DirectView.map_sync` (which cuts the list into
     one contiguous block per engine, ipyparallel's cheapest way to map many tiny items) vs `%%pool map`;
  3. CPU-bound: 8 tasks of about half a second each, serially in the kernel and on 2 engines/workers;
     efficiency = serial / (2 x parallel), each system against its own serial run. Python's task is
     `sum(range(1, 50_000_001))` (a loop in C); the TypeScript task adds up 1..5e8 in a JIT-compiled loop,
     ten times the additions for about the same time, so that both pay their per-task costs alike.
Behaviours, observed on the wire in the same run:
  4. does a function defined in the notebook reach the engines/workers with what it uses (a helper
     function and an import from earlier cells), without push or %px imports?
  5. are the engines'/workers' prints shown in the notebook, live and labelled?
  6. an engine/worker killed (SIGKILL) in the middle of a map;
  7. an interrupt (jupyter_client's interrupt_kernel) during a map of endless tasks: what stops, and
     are the engines/workers still usable.

Usage: python3 bench/ipyparallel/bench_ipyparallel.py [--runs 5] [--cpu-runs 5] [--out bench/results/ipyparallel.md]
Needs a Python with ipyparallel, ipykernel and jupyter_client (on Debian: `apt-get install
python3-ipyparallel`, then run this with /usr/bin/python3), Node, and tspool built (`npm run build`).
"""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IPP_KERNEL = "ipp-python3"
HANG_LIMIT_S = 60

try:
    import ipyparallel
    from jupyter_client.manager import start_new_kernel
except ImportError as e:
    sys.exit(f"bench_ipyparallel: {e}. This Python ({sys.executable}) needs ipyparallel, ipykernel and "
             "jupyter_client: on Debian, `apt-get install python3-ipyparallel` and run this script with /usr/bin/python3.")


class Cell:
    """What one executed cell did: wall time, status, error, and its outputs with their arrival times."""

    def __init__(self):
        self.elapsed = None
        self.status = "timeout"
        self.ename = self.evalue = ""
        self.outputs = []  # (seconds since the request, msg_type, text)

    def text(self):
        return "\n".join(t for _, _, t in self.outputs)

    def result(self):
        """The text of its execute_result ("" when it has none)."""
        return "\n".join(t for _, kind, t in self.outputs if kind == "execute_result")

    def error(self):
        return f"{self.ename}: {self.evalue}".strip(": ")


class Kernel:
    def __init__(self, name, cwd):
        self.name = name
        self.km, self.kc = start_new_kernel(kernel_name=name, cwd=cwd, startup_timeout=60)

    def cell(self, code, timeout=300, during=()):
        """Runs `code`; `during` is a list of (seconds, callback) called while the cell runs. A cell
        without a reply by `timeout` is interrupted and reported as status "timeout"."""
        msg_id = self.kc.execute(code, stop_on_error=False)
        start = time.perf_counter()
        pending = sorted(during, key=lambda d: d[0])
        cell, replied, idle = Cell(), False, False
        while not (replied and idle):
            now = time.perf_counter() - start
            while pending and pending[0][0] <= now:
                pending.pop(0)[1]()
            if now > timeout:
                self.km.interrupt_kernel()
                self._drain(msg_id, 30)
                cell.elapsed = None
                return cell
            try:
                reply = self.kc.get_shell_msg(timeout=0.005)
                if reply["parent_header"].get("msg_id") == msg_id:
                    replied = True
                    c = reply["content"]
                    cell.status = c["status"]
                    cell.ename, cell.evalue = c.get("ename", ""), c.get("evalue", "")
            except Exception:
                pass
            while True:
                try:
                    m = self.kc.get_iopub_msg(timeout=0.005)
                except Exception:
                    break
                if m["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = m["header"]["msg_type"], m["content"]
                at = time.perf_counter() - start
                if kind == "status" and content["execution_state"] == "idle":
                    idle = True
                    cell.elapsed = at
                elif kind == "stream":
                    cell.outputs.append((at, kind, content["text"]))
                elif kind in ("display_data", "update_display_data", "execute_result"):
                    cell.outputs.append((at, kind, str(content.get("data", {}).get("text/plain", ""))))
                elif kind == "error":
                    cell.outputs.append((at, kind, f"{content['ename']}: {content['evalue']}"))
        return cell

    def _drain(self, msg_id, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = self.kc.get_iopub_msg(timeout=0.1)
            except Exception:
                continue
            if m["parent_header"].get("msg_id") == msg_id and m["header"]["msg_type"] == "status" \
                    and m["content"]["execution_state"] == "idle":
                return

    def ok(self, code, timeout=300):
        c = self.cell(code, timeout)
        if c.status != "ok":
            raise RuntimeError(f"{self.name}: cell failed ({c.status}): {code!r}: {c.error()}\n{c.text()[-2000:]}")
        return c

    def interrupt(self):
        self.km.interrupt_kernel()

    def stop(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


# ---------------------------------------------------------------------------------------------------
# What each system runs. Both sides expose the same steps, so the measurements below are shared.

class Ipp:
    label = f"ipyparallel {ipyparallel.__version__}"

    def __init__(self, kernel):
        self.k = kernel

    def start(self):
        # %px and %%px go to the view last activated (without this, to the first client ever made); a
        # blocking view, so that %%px waits for the engines as it does in a notebook by default
        return self.k.ok("cluster = ipp.Cluster(n=2, log_level=40)\nrc = cluster.start_and_connect_sync()\ndv = rc[:]\n"
                         "px_view = rc[:]\npx_view.block = True\npx_view.activate()")

    def first_result(self):
        return self.k.ok("dv.apply_sync(lambda: 1)")

    def stop(self):
        self.k.ok("rc.close()\ncluster.stop_cluster_sync()")

    def setup_maps(self):
        self.k.ok("def square(x):\n    return x * x\n\nitems20k = list(range(20_000))\nitems1m = list(range(1_000_000))")

    def map(self, n):
        name = {20_000: "items20k", 1_000_000: "items1m"}[n]
        c = self.k.ok(f"r = dv.map_sync(square, {name})")
        self.k.ok(f"assert len(r) == {n} and r[-1] == {(n - 1) ** 2}")
        return c

    def setup_cpu(self):
        self.k.ok("def work(i):\n    return sum(range(1, 50_000_001))\n\ncpu_items = list(range(8))")

    def serial(self):
        return self.k.ok("r = [work(i) for i in cpu_items]")

    def parallel(self):
        return self.k.ok("r = dv.map_sync(work, cpu_items)")

    def pids(self):
        return [int(p) for p in re.findall(r"\d+", self.k.ok("import os\ndv.apply_sync(os.getpid)").result())]


class Tspool:
    label = "tspool"

    def __init__(self, kernel):
        self.k = kernel

    def start(self):
        return self.k.ok("%pool start 2")

    def first_result(self):
        return self.k.ok("%%pool map [1, 2]\n(x: number) => x")

    def stop(self):
        self.k.ok("%pool stop")

    def setup_maps(self):
        self.k.ok("const items20k = Array.from({ length: 20_000 }, (_, i) => i);\n"
                  "const items1m = Array.from({ length: 1_000_000 }, (_, i) => i);")

    def map(self, n):
        name = {20_000: "items20k", 1_000_000: "items1m"}[n]
        c = self.k.ok(f"%%pool map {name}\n(x: number) => x * x")
        self.k.ok(f"const got = _ as number[];\nif (got.length !== {n} || got[{n - 1}] !== {(n - 1) ** 2}) throw new Error('wrong result')")
        return c

    def setup_cpu(self):
        self.k.ok("function work(i: number): number {\n  let s = 0;\n  for (let k = 1; k <= 500_000_000; k++) s += k;\n  return s;\n}\n"
                  "const cpuItems = Array.from({ length: 8 }, (_, i) => i);")

    def serial(self):
        return self.k.ok("cpuItems.map(work).length")

    def parallel(self):
        return self.k.ok("%%pool map cpuItems\nwork")

    def pids(self):
        return [int(p) for p in re.findall(r"\d+", self.k.ok("%%pool run\nprocess.pid").result())]


def alternate(systems, step, runs):
    """Median wall time of `step(system)` per system: one warm-up each, then `runs` rounds alternating."""
    for s in systems:
        step(s)
    times = {s.label: [] for s in systems}
    for _ in range(runs):
        for s in systems:
            times[s.label].append(step(s).elapsed)
    return {label: statistics.median(ts) for label, ts in times.items()}


def startup(systems, runs):
    """Median (start to ready, start to first result) per system; a fresh pool/cluster each time."""
    def cycle(s):
        ready = s.start()
        first = s.first_result()
        s.stop()
        return ready.elapsed, ready.elapsed + first.elapsed
    for s in systems:
        cycle(s)  # warm-up: modules loaded, the first cells checked
    got = {s.label: [] for s in systems}
    for _ in range(runs):
        for s in systems:
            got[s.label].append(cycle(s))
    return {label: (statistics.median(r for r, _ in xs), statistics.median(f for _, f in xs)) for label, xs in got.items()}


def cpu(systems, runs):
    """Per system: median serial and parallel wall times (rounds alternate serial and parallel), and
    the lowest and highest efficiency of a single round (how noisy the machine was)."""
    out = {}
    for s in systems:
        s.setup_cpu()
        s.serial()
        s.parallel()
    rounds = {s.label: ([], []) for s in systems}
    for _ in range(runs):
        for s in systems:
            rounds[s.label][0].append(s.serial().elapsed)
            rounds[s.label][1].append(s.parallel().elapsed)
    for label, (serial, parallel) in rounds.items():
        per_round = [a / (2 * p) for a, p in zip(serial, parallel)]
        out[label] = (statistics.median(serial), statistics.median(parallel), min(per_round), max(per_round))
    return out


# ---------------------------------------------------------------------------------------------------
# Behaviours

def live_lines(cell, pattern):
    """(seconds of the first output matching pattern, seconds the cell ended)."""
    first = next((at for at, _, t in cell.outputs if re.search(pattern, t)), None)
    return first, cell.elapsed


def reach(ipp, ts):
    k = ipp.k
    k.ok("import math\n\ndef helper(x):\n    return x + 1\n\ndef f(x):\n    return helper(math.sqrt(x))")
    plain = k.cell("dv.map_sync(f, [1, 4])")
    k.ok("def g(x):\n    return math.sqrt(x)")
    only_import = k.cell("dv.map_sync(g, [1, 4])")
    pushed = k.cell("dv.push({'helper': helper}, block=True)\ndv.execute('import math', block=True)\ndv.map_sync(f, [1, 4])")
    ts.k.ok("import { createHash } from \"node:crypto\";\n"
            "function helper(x: number): number {\n  return x + 1;\n}\n"
            "const digest = (s: string) => createHash(\"sha256\").update(s).digest(\"hex\").slice(0, 8);")
    t = ts.k.cell("%%pool map [1, 4]\n(x: number) => `${helper(Math.sqrt(x))} ${digest(String(x))}`")
    return {
        "ipp": f"`f` (calls `helper` from the same cell and `math.sqrt`): {outcome(plain)}; "
               f"`g` (only `math.sqrt`, `import math` in the notebook): {outcome(only_import)}; "
               f"after `dv.push({{'helper': helper}})` and `dv.execute('import math')`: {outcome(pushed)}",
        "tspool": f"`helper` and `digest` (which uses an `import` of node:crypto) from an earlier cell: {outcome(t)}",
    }


def outcome(cell):
    if cell.status == "ok":
        shown = " ".join(cell.result().split())
        return f"works ({shown[-60:] or 'ok'})"
    return f"fails: {cell.error()[:160]}"


def prints(ipp, ts):
    k = ipp.k
    k.ok("def noisy(i):\n    import time\n    print(f'item {i} starts', flush=True)\n    time.sleep(0.5)\n    return i")
    mapped = k.cell("r = dv.map_sync(noisy, range(4))")
    px = k.cell("%%px\nimport time\nprint('first line', flush=True)\ntime.sleep(1.5)\nprint('second line', flush=True)")
    tmap = ts.k.cell("%%pool map [0, 1, 2, 3] --chunksize 1\nasync (i: number) => {\n  console.log(`item ${i} starts`);\n"
                     "  await new Promise((done) => setTimeout(done, 500));\n  return i;\n}")
    trun = ts.k.cell("%%pool run\nconsole.log('first line');\nawait new Promise((done) => setTimeout(done, 1500));\nconsole.log('second line');")

    def shown(cell, pattern, label_pattern):
        first, _ = live_lines(cell, pattern)
        if first is None:
            return f"not shown (the cell ran {cell.elapsed:.1f} s and printed nothing)"
        label = re.search(label_pattern, cell.text())
        return (f"first line shown {first:.2f} s into a {cell.elapsed:.1f} s cell, "
                + (f"labelled (`{label.group(0)}`)" if label else "not labelled"))

    stdout_label, worker_label = r"\[stdout:\d+\]", r"\[worker \d\]"
    return {
        "ipp": f"`dv.map_sync` of a function that prints: {shown(mapped, 'item', stdout_label)}; "
               f"`%%px` cell: {shown(px, 'first line', stdout_label)}",
        "tspool": f"`%%pool map`: {shown(tmap, worker_label + ' item', worker_label)}; "
                  f"`%%pool run`: {shown(trun, 'first line', worker_label)}",
    }


def kill_mid_map(system, slow_map_code, after_code):
    """Kills the second engine/worker 1.5 s into `slow_map_code`; returns what the map did and the cell `after_code`."""
    victim = system.pids()[1]
    cell = system.k.cell(slow_map_code, timeout=HANG_LIMIT_S, during=[(1.5, lambda: os.kill(victim, signal.SIGKILL))])
    after = system.k.cell(after_code, timeout=30)
    if cell.status == "timeout":
        what = f"the map never returned: no reply after {HANG_LIMIT_S} s (then interrupted)"
    elif cell.status == "ok":
        what = f"the map completed in {cell.elapsed:.1f} s with every result"
    else:
        what = f"the map failed after {cell.elapsed:.1f} s: {cell.error()[:200]}"
    return what, after


def killed(ipp, ts):
    ipp.k.ok("def slow(i):\n    import time\n    time.sleep(1)\n    return i")
    what, after = kill_mid_map(ipp, "r = dv.map_sync(slow, range(8))", "len(rc.ids), rc[:].apply_sync(lambda: 1)")
    ipp_text = f"{what}; afterwards `len(rc.ids), rc[:].apply_sync(lambda: 1)`: {outcome(after)}"
    # A fresh cluster for what follows.
    ipp.k.cell("rc.close()\ncluster.stop_cluster_sync()", timeout=60)
    ipp.start()
    before = ts.pids()
    what, after = kill_mid_map(
        ts,
        "%%pool map [0, 1, 2, 3, 4, 5, 6, 7] --chunksize 1\nasync (i: number) => {\n"
        "  await new Promise((done) => setTimeout(done, 1000));\n  return i;\n}",
        "%%pool run\nprocess.pid",
    )
    now = [int(p) for p in re.findall(r"\d+", after.result())]
    replaced = [f"worker {i} pid {a} -> {b}" for i, (a, b) in enumerate(zip(before, now)) if a != b]
    return {"ipp": ipp_text,
            "tspool": f"{what}; afterwards {len(now)} workers answer `%%pool run` ({', '.join(replaced) or 'none replaced'})"}


def interrupted(ipp, ts):
    k = ipp.k
    k.ok("def spin(i):\n    while True:\n        pass")
    stopped = k.cell("r = dv.map_sync(spin, range(2))", timeout=HANG_LIMIT_S, during=[(1.0, k.interrupt)])
    busy = k.cell("dv.apply_async(lambda: 1).get(timeout=5)", timeout=30)
    k.ok("import signal\ncluster.signal_engines_sync(signal.SIGINT)")
    time.sleep(1)
    recovered = k.cell("dv.apply_sync(lambda: 1)", timeout=30)
    ipp_text = (f"the cell {describe_stop(stopped)}; then a new task on the engines: {outcome(busy)} (they are still running "
                f"`spin`); after `cluster.signal_engines_sync(SIGINT)`: {outcome(recovered)}")
    before = ts.pids()
    t = ts.k.cell("%%pool map [1, 2]\n(n: number) => {\n  while (true) {}\n}", timeout=HANG_LIMIT_S, during=[(1.0, ts.k.interrupt)])
    after = ts.pids()
    ts_text = (f"the cell {describe_stop(t)}; then `%%pool run process.pid`: "
               f"{'the same worker processes answer' if after == before else f'pids changed from {before} to {after}'}")
    return {"ipp": ipp_text, "tspool": ts_text}


def describe_stop(cell):
    if cell.status == "timeout":
        return f"did not stop: no reply {HANG_LIMIT_S} s after the interrupt"
    return f"ended {cell.elapsed - 1.0:.2f} s after the interrupt ({cell.error()[:100] or 'status ok, no error shown'})"


# ---------------------------------------------------------------------------------------------------

def stop_leftovers(tmp):
    """Kills what is left of this run's clusters: an engine busy in a task ignores the cluster's stop (and
    SIGTERM), and would spin on. Only processes started with this run's private directory in their arguments."""
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    for line in ps.splitlines():
        pid, _, cmd = line.strip().partition(" ")
        if tmp in cmd and int(pid) != os.getpid():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def private_jupyter(tmp):
    """Private Jupyter and IPython dirs, with an IPython kernelspec for this very Python and tspool's."""
    share = os.path.join(tmp, "share", "jupyter")
    spec_dir = os.path.join(share, "kernels", IPP_KERNEL)
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                   "display_name": "Python (ipyparallel bench)", "language": "python"}, f)
    subprocess.run(["node", os.path.join(ROOT, "dist", "cli.js"), "install", "--prefix", tmp], check=True, stdout=subprocess.DEVNULL)
    os.environ["JUPYTER_PATH"] = share
    for d in ("config", "data", "runtime", "ipython"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    os.environ["JUPYTER_CONFIG_DIR"] = os.path.join(tmp, "config")
    os.environ["JUPYTER_DATA_DIR"] = os.path.join(tmp, "data")
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(tmp, "runtime")
    os.environ["IPYTHONDIR"] = os.path.join(tmp, "ipython")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu-runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "ipyparallel.md"))
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tspool-bench-ipp-")
    private_jupyter(tmp)
    load_before = os.getloadavg()[0]
    ipk = tsk = None
    try:
        ipk = Kernel(IPP_KERNEL, tmp)
        tsk = Kernel("tspool", tmp)
        import_ipp = ipk.ok("import ipyparallel as ipp").elapsed
        ipp, ts = Ipp(ipk), Tspool(tsk)
        systems = [ipp, ts]
        log = lambda s: print(s, flush=True)

        starts = startup(systems, args.runs)
        log(f"start: {starts}")
        for s in systems:
            s.start()
            s.first_result()
            s.setup_maps()
        maps = {n: alternate(systems, lambda s, n=n: s.map(n), args.runs) for n in (20_000, 1_000_000)}
        log(f"maps: {maps}")
        cpus = cpu(systems, args.cpu_runs)
        log(f"cpu: {cpus}")
        behaviours = [
            ("a function from the notebook, with a helper and an import from earlier cells, used in a map", reach(ipp, ts)),
            ("prints on the engines/workers", prints(ipp, ts)),
            ("an engine/worker killed (SIGKILL) 1.5 s into a map of 8 one-second tasks", killed(ipp, ts)),
            ("an interrupt 1 s into a map of endless tasks", interrupted(ipp, ts)),
        ]
        for what, b in behaviours:
            log(f"{what}:\n  ipyparallel: {b['ipp']}\n  tspool: {b['tspool']}")
        ipp.stop()
    finally:
        for k in (ipk, tsk):
            if k:
                k.stop()
        stop_leftovers(tmp)
    load_after = os.getloadavg()[0]
    write(args, starts, maps, cpus, behaviours, import_ipp, load_before, load_after)


def one_line(text):
    """Text for a markdown table cell: whitespace (tracebacks' newlines too) collapsed, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def write(args, starts, maps, cpus, behaviours, import_ipp, load_before, load_after):
    ipp_label, ts_label = Ipp.label, Tspool.label
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    cpu_name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu_name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass

    def ratio(a, b):
        return f"{a / b:.1f}x" if a >= b else f"1/{b / a:.1f}x"

    (ipp_ready, ipp_first), (ts_ready, ts_first) = starts[ipp_label], starts[ts_label]
    ipp_serial, ipp_par, ipp_low, ipp_high = cpus[ipp_label]
    ts_serial, ts_par, ts_low, ts_high = cpus[ts_label]
    rows = [
        ("start to a ready pool of 2", ts_ready, ipp_ready, "`%pool start 2`", "`ipp.Cluster(n=2).start_and_connect_sync()`"),
        ("start to the first result", ts_first, ipp_first, "... then `%%pool map [1, 2]`", "... then `dv.apply_sync(lambda: 1)`"),
        ("x -> x * x over 20,000 items", maps[20_000][ts_label], maps[20_000][ipp_label], "`%%pool map`", "`dv.map_sync` (one block per engine)"),
        ("x -> x * x over 1,000,000 items", maps[1_000_000][ts_label], maps[1_000_000][ipp_label], "`%%pool map`", "`dv.map_sync`"),
    ]
    header = """# ipyparallel: tspool's pool against ipyparallel, side by side

Produced by `npm run bench` (or `npm run build && /usr/bin/python3 bench/ipyparallel/bench_ipyparallel.py`;
ipyparallel from Debian's `python3-ipyparallel`); each run adds a section below. Both are driven through
jupyter_client as a notebook would drive them: ipyparallel from an IPython kernel, tspool from its kernel,
2 engines / 2 workers on the same machine, in the same run. Times are wall times as the notebook client sees
them (execute_request to the cell's idle), medians of the runs after a warm-up, the two systems alternating.
Each CPU-bound figure compares a system with its own serial run in its own kernel: 8 tasks of about half a
second (Python's `sum(range(1, 50_000_001))`, a loop in C; a TypeScript loop adding up 1..5e8, JIT-compiled),
so the efficiencies compare, the times do not.
The machine is shared and has 2 cores: the load average is recorded with each run.
"""
    section = f"""
## Run of {time.strftime('%Y-%m-%d %H:%M')} UTC

{cpu_name} ({os.cpu_count()} cores), Node {node}, Python {platform.python_version()} ({sys.executable}), {ipp_label},
{args.runs} runs ({args.cpu_runs} for CPU-bound); load average {load_before:.1f} before and {load_after:.1f} after.
`import ipyparallel` in a fresh IPython kernel: {import_ipp:.2f} s (not included below).

| measure | tspool | {ipp_label} | tspool vs ipyparallel |
|---|---:|---:|---:|
""" + "".join(
        f"| {what} | {t:.3f} s ({tc}) | {i:.3f} s ({ic}) | {ratio(i, t)} faster |\n" if t <= i else
        f"| {what} | {t:.3f} s ({tc}) | {i:.3f} s ({ic}) | {ratio(t, i)} slower |\n"
        for what, t, i, tc, ic in rows
    ) + f"""| CPU-bound: 8 tasks of ~0.5 s, efficiency on 2 | {ts_serial / (2 * ts_par):.1%} (serial {ts_serial:.2f} s, `%%pool map` {ts_par:.2f} s; single rounds {ts_low:.0%} to {ts_high:.0%}) | {ipp_serial / (2 * ipp_par):.1%} (serial {ipp_serial:.2f} s, `dv.map_sync` {ipp_par:.2f} s; single rounds {ipp_low:.0%} to {ipp_high:.0%}) | |

| behaviour | tspool | {ipp_label} |
|---|---|---|
""" + "".join(f"| {what} | {one_line(b['tspool'])} | {one_line(b['ipp'])} |\n" for what, b in behaviours)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fresh = args.out == os.devnull or not os.path.exists(args.out) or not open(args.out).read().startswith(header[:40])
    with open(args.out, "w" if fresh else "a") as f:
        f.write((header if fresh else "") + section)
    print(section)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
