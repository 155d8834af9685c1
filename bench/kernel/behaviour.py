"""Behaviour comparison of TypeScript kernels, measured through jupyter_client (not a timing benchmark).

For each kernel, from what it actually does on the wire:
  (a) a cell `const n: number = "x"` is rejected with a type error (execute_reply status "error");
  (b) a name typed in an earlier cell is checked in a later one (`const k = 5`, then `const s: string = k`
      is rejected);
  (c) an interrupt (jupyter_client's interrupt_kernel, which follows the spec's interrupt_mode: an
      interrupt_request on control, or SIGINT) stops `while (true) {}` within 2 s, and the session keeps its
      state (`k` is still 5 afterwards);
  (c') the same with an interrupt_request sent on the control channel whatever the spec says (a kernel may
      handle the message although its spec asks for SIGINT);
  (d) a cell's last expression comes back as an execute_result;
  (e) complete_request on `k.toFi` offers `toFixed` (and (e') on `Math.fl`, `floor`: a built-in's members);
  (f) each cell's code is broadcast on iopub as an `execute_input` message;
  (g) a cell that throws produces an `error` message on iopub (ename and evalue), not just text on a stream;
  (h) a cell that asks for input (`input()` where the kernel has it, else `prompt()`) gets its answer through
      an input_request on the stdin channel;
  (i) a history_request ("tail") returns the cells run before;
  (j) an ESM-only npm package in the notebook folder's node_modules (its package.json has "type": "module"
      and exports only an `import` condition; written there by this probe) can be imported.
Cells run with stop_on_error=False. A kernel that wedges or dies is restarted (and that is recorded) so that the remaining kernels still run.

Called by bench_kernel.py (same command, same private kernelspecs); `compare(...)` returns the rows and
`markdown(...)` the table.
"""
import json
import os
import time

from jupyter_client.manager import KernelManager

QUESTIONS = [
    ("type_error", '(a) `const n: number = "x"` fails with a type error'),
    ("cross_cell", "(b) `const k = 5`, then `const s: string = k` in a later cell fails (checked across cells)"),
    ("interrupt", "(c) interrupt per the kernelspec's interrupt_mode stops `while (true) {}` within 2 s"),
    ("state_kept", "(c) ... and `k` is still 5 afterwards"),
    ("interrupt_msg", "(c') an interrupt_request on control (whatever the spec says) stops it within 2 s"),
    ("state_kept_msg", "(c') ... and `k` is still 5 afterwards"),
    ("execute_result", "(d) the last expression comes back as an execute_result"),
    ("complete", "(e) complete_request on `k.toFi` offers `toFixed`"),
    ("complete_global", "(e') complete_request on `Math.fl` (a built-in, not a cell's name) offers `floor`"),
    ("execute_input", "(f) each cell's code is broadcast as `execute_input` on iopub"),
    ("error_msg", '(g) `throw new Error("boom")` produces an `error` message (ename `Error`, evalue `boom`)'),
    ("stdin", "(h) a cell asking for input gets the answer through an input_request (stdin channel)"),
    ("history", "(i) history_request (`tail`) returns earlier cells"),
    ("esm_only", "(j) `import { answer } from \"esm-only-probe\"` (an ESM-only package next to the notebook) works"),
]

ESM_PROBE = "esm-only-probe"

INTERRUPT_LIMIT_S = 2.0


def run(kc, code, timeout=30.0, idle_grace=2.0):
    """Execute code (stop_on_error=False: each probe stands alone); return (execute_reply content or None, this request's iopub messages).

    Ends when both the reply and the iopub idle arrived, or `idle_grace` seconds after the reply (a
    kernel that loses its idle must not hang the comparison), or at `timeout`."""
    msg_id = kc.execute(code, store_history=True, stop_on_error=False)
    return wait_for(kc, msg_id, timeout, idle_grace)


def wait_for(kc, msg_id, timeout, idle_grace=2.0):
    deadline = time.monotonic() + timeout
    reply, reply_at, idle, iopub = None, None, False, []
    while time.monotonic() < deadline and not (reply is not None and idle):
        if reply is not None and time.monotonic() - reply_at > idle_grace:
            break
        if reply is None:
            try:
                msg = kc.get_shell_msg(timeout=0.01)
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply, reply_at = msg["content"], time.monotonic()
            except Exception:
                pass
        while True:
            try:
                msg = kc.get_iopub_msg(timeout=0.01)
            except Exception:
                break
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            iopub.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
    return reply, iopub


def _error_text(reply, iopub):
    if reply and reply.get("status") == "error":
        return f"{reply.get('ename', '')}: {reply.get('evalue', '')}".strip()[:140]
    for m in iopub:
        if m["msg_type"] == "error":
            return f"{m['content'].get('ename', '')}: {m['content'].get('evalue', '')}"[:140]
    return ""


def _stdout(iopub):
    return "".join(m["content"].get("text", "") for m in iopub
                   if m["msg_type"] == "stream" and m["content"].get("name") == "stdout")


def _result_text(iopub):
    for m in iopub:
        if m["msg_type"] == "execute_result":
            return m["content"]["data"].get("text/plain", "")
    return None


def _status(reply):
    return "no reply" if reply is None else reply.get("status", "?")


class _Session:
    """One kernel under test, restartable; its cells run with stop_on_error=False so that probes are independent."""

    def __init__(self, kernel_name, cwd):
        self.kernel_name, self.cwd = kernel_name, cwd
        self.km = self.kc = None
        self.aborted = []  # cells the kernel answered with status "abort" although nothing was queued
        self.start()

    def start(self):
        self.km = KernelManager(kernel_name=self.kernel_name)
        self.km.start_kernel(cwd=self.cwd)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.cell("1 + 1", timeout=60)  # pays for each kernel's first-cell start-up outside the probes

    def cell(self, code, timeout=30.0):
        """Run one cell; a kernel that aborts a cell sent after the previous one's reply (tslab does, for a
        moment after a failed cell, even with stop_on_error=False) gets it once more 1.5 s later, as a user
        typing the next cell would send it; that is recorded."""
        reply, iopub = run(self.kc, code, timeout)
        if reply is not None and reply.get("status") == "abort":
            self.aborted.append(code)
            time.sleep(1.5)
            reply, iopub = run(self.kc, code, timeout)
        return reply, iopub

    def restart(self):
        self.stop()
        self.start()

    def stop(self):
        if self.kc:
            self.kc.stop_channels()
        if self.km:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass


def _failure(reply, iopub):
    """What a cell printed or replied about its failure (kernels differ: reply fields, error message, stderr)."""
    text = _error_text(reply, iopub)
    stderr = "".join(m["content"].get("text", "") for m in iopub
                     if m["msg_type"] == "stream" and m["content"].get("name") == "stderr").strip()
    return (text if text.strip(": ") else stderr)[:140]


def probe(kernel_name, cwd, log=print):
    """Answers (True/False) and what was seen, for one kernel."""
    ans, seen = {}, {}
    s = _Session(kernel_name, cwd)
    try:
        reply, iopub = s.cell('const n: number = "x"')
        ans["type_error"] = reply is not None and reply.get("status") == "error"
        seen["type_error"] = f"{_status(reply)} {_failure(reply, iopub)}".strip()

        reply_k, _ = s.cell("const k = 5")
        reply, iopub = s.cell("const s: string = k")
        ans["cross_cell"] = (reply_k or {}).get("status") == "ok" and (reply or {}).get("status") == "error"
        seen["cross_cell"] = (f"`const k = 5`: {_status(reply_k)}; `const s: string = k`: {_status(reply)} "
                              f"{_failure(reply, iopub)}").strip()

        reply, iopub = s.cell("const z = 20; z + 1")
        text = _result_text(iopub)
        ans["execute_result"] = text is not None and "21" in text
        seen["execute_result"] = f"execute_result text/plain {text!r}" if text is not None else \
            f"{_status(reply)}, no execute_result; stdout {_stdout(iopub).strip()!r}"

        ans["execute_input"] = any(m["msg_type"] == "execute_input" for m in iopub)
        seen["execute_input"] = "iopub: " + ", ".join(m["msg_type"] for m in iopub)

        reply, iopub = s.cell('throw new Error("boom")')
        errors = [m["content"] for m in iopub if m["msg_type"] == "error"]
        ans["error_msg"] = any(e.get("ename") == "Error" and "boom" in e.get("evalue", "") for e in errors)
        seen["error_msg"] = (f"reply {_status(reply)}; iopub: " + ", ".join(
            f"{m['msg_type']} {(m['content'].get('ename') or m['content'].get('name') or '')}".strip() for m in iopub
            if m["msg_type"] != "status"))

        ans["stdin"], seen["stdin"] = _asks_for_input(s)
        ans["history"], seen["history"] = _history(s)
        ans["esm_only"], seen["esm_only"] = _imports_esm_only(s)

        for key, code, want in (("complete", "k.toFi", "toFixed"), ("complete_global", "Math.fl", "floor")):
            ans[key], seen[key] = _completes(s, code, want)

        ans["interrupt"], ans["state_kept"], seen["interrupt"], seen["state_kept"] = \
            _interrupt(s, lambda: s.km.interrupt_kernel(), log)
        restated = ""
        if not ans["state_kept"]:  # the message probe below needs `k` again
            r, _ = s.cell("const k = 5")
            restated = f" (after `const k = 5` again: {_status(r)})"
        a, b, what, state = _interrupt(
            s, lambda: s.kc.control_channel.send(s.kc.session.msg("interrupt_request", {})), log)
        ans["interrupt_msg"], ans["state_kept_msg"] = a, b
        seen["interrupt_msg"], seen["state_kept_msg"] = what + restated, state
        if s.aborted:
            seen["aborted"] = f"{len(s.aborted)} cell(s) answered `abort` right after a failed cell, ran when re-sent 1.5 s later"
    finally:
        s.stop()
    return ans, seen


def _asks_for_input(s):
    """Runs a cell that asks for a line of input and answers "Ada" if an input_request comes."""
    # (no `await (...)`: tslab takes a parenthesised `await (x)` for a call of a function named await)
    code = ('const g = globalThis as any;\n'
            'const ask = typeof g.input === "function" ? g.input : g.prompt;\n'
            'const answer = await ask("name? ");\n'
            'console.log("got " + answer);')
    s.cell("1 + 1")
    msg_id = s.kc.execute(code, allow_stdin=True, stop_on_error=False)
    asked, reply, iopub = None, None, []
    deadline = time.monotonic() + 15
    while asked is None and time.monotonic() < deadline:
        try:
            m = s.kc.get_stdin_msg(timeout=0.1)
        except Exception:  # no request yet: has the cell ended without one?
            reply, more = wait_for(s.kc, msg_id, 0.05, idle_grace=0)
            iopub += more
            if reply is not None:
                break
            continue
        if m["msg_type"] == "input_request":
            asked = m["content"].get("prompt", "")
            s.kc.input("Ada")
    if reply is None:
        reply, more = wait_for(s.kc, msg_id, 15)
        iopub += more
    out = _stdout(iopub).strip()
    if asked is None:
        return False, f"no input_request; reply {_status(reply)} {_failure(reply, iopub)}".strip()
    return out == "got Ada", f"input_request (prompt {asked!r}); after answering: stdout {out!r}"


def _history(s):
    try:
        content = s.kc.history(hist_access_type="tail", n=50, reply=True, timeout=10)["content"]
    except Exception as e:
        return False, f"no history_reply ({type(e).__name__})"
    inputs = [h[2] if isinstance(h[2], str) else h[2][0] for h in content.get("history", [])]
    found = any("const k = 5" in i for i in inputs)
    return found, f"history_reply {content.get('status')}, {len(inputs)} entries" + (", includes `const k = 5`" if found else "")


def write_esm_only_package(cwd):
    """An npm package that can only be imported (no require), in cwd/node_modules, with types."""
    pkg = os.path.join(cwd, "node_modules", ESM_PROBE)
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, "package.json"), "w") as f:
        json.dump({"name": ESM_PROBE, "version": "1.0.0", "type": "module",
                   "exports": {".": {"types": "./index.d.ts", "import": "./index.js"}}}, f)
    with open(os.path.join(pkg, "index.js"), "w") as f:
        f.write("export const answer = 42;\n")
    with open(os.path.join(pkg, "index.d.ts"), "w") as f:
        f.write("export declare const answer: number;\n")
    if not os.path.exists(os.path.join(cwd, "package.json")):  # a project folder, as a notebook's usually is
        with open(os.path.join(cwd, "package.json"), "w") as f:
            json.dump({"name": "notebook-folder", "private": True, "dependencies": {ESM_PROBE: "1.0.0"}}, f)


def _imports_esm_only(s):
    reply, iopub = s.cell(f'import {{ answer }} from "{ESM_PROBE}";\nconsole.log("answer " + answer);')
    out = _stdout(iopub).strip()
    return out == "answer 42", (f"stdout {out!r}" if out else f"{_status(reply)} {_failure(reply, iopub)}".strip())


def _completes(s, code, want):
    try:
        comp = s.kc.complete(code, len(code), reply=True, timeout=15)["content"]
    except Exception as e:  # no complete_reply at all
        return False, f"no complete_reply ({type(e).__name__})"
    matches = comp.get("matches", [])
    return (any(m == want or m.endswith("." + want) for m in matches),
            f"{comp.get('status')}, {len(matches)} matches {matches[:4]}")


def _interrupt(s, interrupt, log):
    """Interrupt `while (true) {}` with `interrupt()`: (stopped within the limit, state kept, what happened,
    what the state check saw). A kernel that dies or wedges is restarted."""
    s.cell("1 + 1")  # nothing pending, no abort window
    msg_id = s.kc.execute("while (true) {}", stop_on_error=False)
    # let the loop start (every kernel here answers `1 + 1` in well under this); a reply now means it never looped
    early, _ = wait_for(s.kc, msg_id, 0.7, idle_grace=0)
    if early is not None:
        return False, False, f"`while (true) {{}}` ended before any interrupt: {_status(early)}", "not checked"
    t0 = time.monotonic()
    interrupt()
    # idle_grace=0: return as soon as the reply is in, so `waited` is the time to the reply
    reply, _ = wait_for(s.kc, msg_id, INTERRUPT_LIMIT_S, idle_grace=0)
    waited = time.monotonic() - t0
    stopped = reply is not None
    if reply is None:  # give it more time, to tell a slow stop from a wedge
        reply, _ = wait_for(s.kc, msg_id, 8.0, idle_grace=0)
        waited = time.monotonic() - t0
    alive = s.km.is_alive()
    if reply is not None:
        what = f"execute_reply {reply.get('status')} ({reply.get('ename', '')}) after {waited:.2f} s"
    elif not alive:
        what = f"kernel process died (exit {s.km.provisioner.process.returncode if s.km.provisioner else '?'})"
    else:
        what = f"no execute_reply {waited:.0f} s after the interrupt: wedged"
    if reply is None:
        log(f"  {s.kernel_name}: {what}; restarting it")
        s.restart()
        return stopped, False, what + "; restarted", "state lost with the restart"
    check, iopub = s.cell("console.log(String(k))", timeout=10)
    out = _stdout(iopub).strip()
    if check is None:
        log(f"  {s.kernel_name}: no reply to a cell after the interrupt; restarting it")
        s.restart()
        return stopped, False, what + "; next cell got no reply (wedged, restarted)", "no reply"
    return stopped, out == "5", what, f"`console.log(String(k))`: {_status(check)}, stdout {out!r}"


def compare(kernels, cwd, log=print):
    """kernels: [(kernel_name, label)]. Returns {label: (answers, seen)}."""
    rows = {}
    write_esm_only_package(cwd)
    for name, label in kernels:
        log(f"behaviour: {label} ...")
        try:
            rows[label] = probe(name, cwd, log)
        except Exception as e:  # a kernel that cannot even start: report it, keep the others
            rows[label] = ({}, {"error": f"{type(e).__name__}: {e}"[:200]})
        log(f"  {rows[label]}")
    return rows


def markdown(rows):
    labels = list(rows)
    lines = ["| behaviour (each measured through jupyter_client) | " + " | ".join(labels) + " |",
             "|---" * (len(labels) + 1) + "|"]
    for key, question in QUESTIONS:
        cells = []
        for label in labels:
            ans = rows[label][0]
            cells.append("yes" if ans.get(key) else ("no" if key in ans else "n/a"))
        lines.append(f"| {question} | " + " | ".join(cells) + " |")
    lines += ["", "What each kernel did:"]
    for label in labels:
        seen = rows[label][1]
        lines.append(f"- {label}: " + "; ".join(f"{k}: {' '.join(str(v).split())}" for k, v in seen.items()))  # one line each
    return lines
