"""The %pool magics driven by Jupyter's own client library (jupyter_client), as a notebook frontend would.

usage: python3 pool_magics_client.py WORKDIR

Finds the tspool kernelspec through JUPYTER_PATH, starts the kernel in WORKDIR, runs the checks
below and prints one line per check ("ok NAME" or "FAIL NAME: why"), then a summary line.
Exit status 0 when every check passed.
"""
import json
import os
import re
import signal
import sys
import time
import traceback

from jupyter_client.manager import start_new_kernel


class Cell:
    def __init__(self, reply, iopub):
        self.reply = reply
        self.iopub = iopub

    @property
    def status(self):
        return self.reply["content"]["status"]

    @property
    def error(self):
        return self.reply["content"] if self.status == "error" else None

    def result_text(self):
        for m in self.iopub:
            if m["msg_type"] == "execute_result":
                return m["content"]["data"]["text/plain"]
        return None

    def stdout(self):
        return "".join(m["content"]["text"] for m in self.iopub if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")

    def displays(self):
        return [m for m in self.iopub if m["msg_type"] in ("display_data", "update_display_data")]

    def final_display_text(self):
        shown = [m for m in self.displays() if m["content"].get("transient", {}).get("display_id")]
        return shown[-1]["content"]["data"]["text/plain"] if shown else ""


def run(kc, code, on_iopub=None, timeout=60):
    msg_id = kc.execute(code)
    iopub = []
    deadline = time.time() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        iopub.append(msg)
        if on_iopub:
            on_iopub(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return Cell(reply, iopub)


def ok(kc, code, **kw):
    c = run(kc, code, **kw)
    if c.status != "ok":
        raise AssertionError(f"cell failed: {code!r}: {c.error}")
    return c


def check(cond, why):
    if not cond:
        raise AssertionError(why)


SEEN_PIDS = set()


def worker_pids(kc):
    pids = json.loads(ok(kc, "%%pool run\nprocess.pid").result_text().replace(" ", ""))
    SEEN_PIDS.update(pids)
    return pids


def main():
    workdir = sys.argv[1]
    km, kc = start_new_kernel(kernel_name="tspool", cwd=workdir, startup_timeout=60)
    results = []

    def test(name):
        def deco(fn):
            try:
                fn()
                results.append((name, None))
            except Exception as e:  # noqa: BLE001 - report every failure and go on
                results.append((name, f"{e}\n{traceback.format_exc(limit=2)}"))
            return fn
        return deco

    try:
        ok(kc, "%pool start 2")
        worker_pids(kc)

        @test("capture: const data, function, class and a node:crypto import reach the workers")
        def _():
            ok(kc, "const weights = [1, 10, 100]\nfunction weigh(i: number) { return weights[i] }")
            ok(kc, "class Tag { constructor(public s: string) {} show() { return `<${this.s}>` } }")
            ok(kc, "import { createHash } from 'node:crypto'")
            c = ok(kc, "%%pool map [0, 1, 2]\n(i: number) => new Tag(createHash('md5').update(String(weigh(i))).digest('hex').slice(0, 6)).show()")
            import hashlib
            expected = [f"<{hashlib.md5(str(w).encode()).hexdigest()[:6]}>" for w in (1, 10, 100)]
            check(c.result_text() == "[ " + ", ".join(f"'{e}'" for e in expected) + " ]", f"got {c.result_text()}, wanted {expected}")

        @test("output: every worker line is labelled with its worker, in one display updated in place and re-shown at the end")
        def _():
            c = ok(kc, "%%pool map [0, 1, 2, 3] --chunksize 1\nasync (x: number) => { console.log('hello', x); await new Promise((r) => setTimeout(r, 30)); return x }")
            text = c.final_display_text()
            for x in range(4):
                check(re.search(rf"^\[worker [01]\] hello {x}$", text, re.M), f"no labelled line for item {x} in:\n{text}")
            # updated in place; being the cell's only output, the final state is re-shown after a
            # clear_output(wait) as a fresh display_data of the same id (for consoles, which ignore updates)
            ids = {m["content"]["transient"]["display_id"] for m in c.displays() if m["content"].get("transient", {}).get("display_id")}
            check(len(ids) == 1, f"display ids: {ids}")
            kinds = [m["msg_type"] for m in c.iopub if m["msg_type"] == "clear_output" or m["content"].get("transient", {}).get("display_id") in ids]
            check(kinds[0] == "display_data" and all(k == "update_display_data" for k in kinds[1:-2])
                  and kinds[-2:] == ["clear_output", "display_data"], f"display messages: {kinds}")
            check(all(m["content"]["wait"] for m in c.iopub if m["msg_type"] == "clear_output"), "clear_output without wait")
            check("summed task time" in text and "speedup" in text, f"no summary in:\n{text}")

        @test("errors: a throwing task names worker, item and the original error; the pool stays usable")
        def _():
            c = run(kc, "%%pool map [1, 2, 3]\n(x: number) => {\n  if (x === 2) throw new TypeError('two is bad')\n  return x\n}")
            check(c.status == "error", "the cell did not fail")
            check(c.error["ename"] == "TypeError", f"ename {c.error['ename']}")
            check(re.fullmatch(r"two is bad \(worker \d, item 1\)", c.error["evalue"]), f"evalue {c.error['evalue']}")
            check(any(re.search(r"cell\[\d+\]:3:", line) for line in c.error["traceback"]), f"traceback {c.error['traceback']}")
            check(ok(kc, "%%pool map [4]\n(x: number) => x * 2").result_text() == "[ 8 ]", "pool unusable after an error")

        @test("SIGKILL of a worker mid-map loses no result and the pool is back to full size")
        def _():
            victim = worker_pids(kc)[1]
            killed = []

            def maybe_kill(msg):
                if killed or msg["msg_type"] != "update_display_data":
                    return
                if "[worker 1] did" in msg["content"]["data"]["text/plain"]:
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)

            c = ok(kc, "%%pool map Array.from({ length: 12 }, (_, i) => i) --chunksize 1\n"
                       "async (x: number) => { await new Promise((r) => setTimeout(r, 50)); console.log('did', x); return x * 3 }",
                   on_iopub=maybe_kill)
            check(killed == [victim], "the worker was never killed")
            check(c.result_text().replace(" ", "").replace("\n", "") == "[" + ",".join(str(3 * i) for i in range(12)) + "]", c.result_text())
            check("was killed by SIGKILL" in c.final_display_text(), c.final_display_text())
            pids = worker_pids(kc)
            check(len(pids) == 2 and victim not in pids, f"pids after: {pids}")

        @test("interrupt: running tasks stop and the workers keep their state")
        def _():
            ok(kc, "%%pool run\nglobalThis.mark = 'still here'")
            before = worker_pids(kc)
            seen = set()

            def interrupt_when_spinning(msg):
                if msg["msg_type"] != "update_display_data":
                    return
                text = msg["content"]["data"]["text/plain"]
                seen.update(re.findall(r"^\[(worker \d)\] spin", text, re.M))
                if len(seen) == 2 and "sent" not in seen:
                    seen.add("sent")
                    km.interrupt_kernel()

            c = run(kc, "%%pool map [1, 2] --chunksize 1\n(x: number) => { let t = 0; for (;;) { if (Date.now() - t > 50) { console.log('spin', x); t = Date.now() } } }",
                    on_iopub=interrupt_when_spinning)
            check("sent" in seen, "never interrupted")
            check(c.status == "error" and c.error["ename"] == "Interrupted", f"{c.status} {c.error}")
            check(ok(kc, "%pool pull mark").result_text() == "[ 'still here', 'still here' ]", "worker state lost")
            check(worker_pids(kc) == before, "workers were replaced")

        @test("%%pool run state persists on the workers between cells")
        def _():
            check(ok(kc, "%%pool run\nlet total = 5\ntotal").result_text() == "[ 5, 5 ]", "first run")
            check(ok(kc, "%%pool run --targets 0\ntotal *= 2").result_text() == "[ 10 ]", "targeted run")
            check(ok(kc, "%%pool run\ntotal + 1").result_text() == "[ 11, 6 ]", "state not kept")

        @test("typos: a misspelt magic suggests the closest valid form and keeps the state")
        def _():
            c = run(kc, "%%pool mpa [1, 2]\n(x: number) => x")
            check(c.status == "error" and c.error["ename"] == "UsageError", str(c.error))
            check("did you mean `%%pool map [1, 2]`?" in c.error["evalue"], c.error["evalue"])
            check(ok(kc, "weights.length").result_text() == "3", "kernel state lost")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        # a worker left spinning by a failed check must not outlive the test
        for pid in SEEN_PIDS:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    failed = 0
    for name, why in results:
        if why is None:
            print(f"ok {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {why}")
    print(f"summary: {len(results) - failed} of {len(results)} checks passed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
