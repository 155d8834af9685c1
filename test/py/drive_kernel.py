"""Drive the installed tspool kernel with jupyter_client (the reference client).

Needs JUPYTER_PATH pointing at a prefix where `tspool install --prefix` put the kernelspec.
Prints one JSON object of observations on stdout; test/kernel/jupyter-client.test.ts checks them.
"""
import json
import os
import queue
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

TIMEOUT = 30
obs = {}


def iopub_for(kc, msg_id, timeout=TIMEOUT):
    """All iopub messages of one request, up to its status idle."""
    msgs = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = kc.get_iopub_msg(timeout=deadline - time.time())
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        msgs.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return msgs
    raise TimeoutError("no idle for " + msg_id)


def shell_reply(kc, msg_id, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while True:
        m = kc.get_shell_msg(timeout=deadline - time.time())
        if m["parent_header"].get("msg_id") == msg_id:
            return m


def run(kc, code, **kw):
    msg_id = kc.execute(code, **kw)
    reply = shell_reply(kc, msg_id)
    msgs = iopub_for(kc, msg_id)
    return reply, msgs


def main():
    name = os.environ.get("TSPOOL_KERNEL_NAME", "tspool")
    notebook_dir = tempfile.mkdtemp(prefix="tspool-py-")
    km = KernelManager(kernel_name=name)
    obs["spec_argv0_absolute"] = os.path.isabs(km.kernel_spec.argv[0])
    obs["interrupt_mode"] = km.kernel_spec.interrupt_mode
    km.start_kernel(cwd=notebook_dir)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    try:
        info = kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]
        obs["kernel_info"] = {
            "implementation": info["implementation"],
            "language": info["language_info"]["name"],
            "file_extension": info["language_info"]["file_extension"],
            "protocol_version": info["protocol_version"],
        }

        reply, msgs = run(kc, 'console.log("hello from ts"); const answer: number = 6 * 7; answer')
        obs["execute"] = {
            "status": reply["content"]["status"],
            "types": [m["msg_type"] for m in msgs],
            "stdout": "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream"),
            "result": next((m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"), None),
            "count": reply["content"]["execution_count"],
        }

        reply, msgs = run(kc, 'throw new TypeError("bad thing")')
        err = next((m["content"] for m in msgs if m["msg_type"] == "error"), {})
        obs["error"] = {"status": reply["content"]["status"], "ename": err.get("ename"), "evalue": err.get("evalue")}

        code = "const longVariableName = 1;\nlongVar"
        c = kc.complete(code, len(code), reply=True, timeout=TIMEOUT)["content"]
        obs["complete"] = {"matches": c["matches"], "cursor_start": c["cursor_start"], "cursor_end": c["cursor_end"], "len": len(code)}

        i = kc.inspect("answer", 3, reply=True, timeout=TIMEOUT)["content"]
        obs["inspect"] = {"status": i["status"], "found": i["found"], "text": i["data"].get("text/plain", "")}

        obs["is_complete"] = {
            "complete": shell_reply(kc, kc.is_complete("const z = 1;"))["content"],
            "incomplete": shell_reply(kc, kc.is_complete("if (true) {"))["content"],
        }

        h = kc.history(hist_access_type="tail", n=5, output=False, raw=True, reply=True, timeout=TIMEOUT)["content"]
        obs["history"] = {"status": h["status"], "inputs": [e[2] for e in h["history"]]}

        ci_id = kc.comm_info()
        ci = shell_reply(kc, ci_id)
        obs["comm_info"] = {"msg_type": ci["msg_type"], "content": ci["content"]}

        prompts = []

        def answer(msg):
            prompts.append(msg["content"]["prompt"])
            kc.input("typed by python")

        outputs = []
        r = kc.execute_interactive('(await input("Your input: ")).length', allow_stdin=True, stdin_hook=answer,
                                   output_hook=outputs.append, timeout=TIMEOUT)
        obs["stdin"] = {
            "status": r["content"]["status"],
            "prompts": prompts,
            "result": next((m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"), None),
        }

        # Interrupt a synchronous infinite loop, by message (the spec's mode) and by signal.
        for mode in ("message", "signal"):
            km.kernel_spec.interrupt_mode = mode
            msg_id = kc.execute("while (true) {}")
            time.sleep(0.5)
            t0 = time.time()
            km.interrupt_kernel()
            reply = shell_reply(kc, msg_id, timeout=15)
            iopub_for(kc, msg_id)
            after, msgs = run(kc, "answer + 1")
            obs["interrupt_" + mode] = {
                "status": reply["content"]["status"],
                "ename": reply["content"].get("ename"),
                "seconds": time.time() - t0,
                "alive": km.is_alive(),
                "state_kept": next((m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"), None),
            }
        km.kernel_spec.interrupt_mode = "message"

        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        h = kc.history(hist_access_type="range", session=-1, start=1, output=False, raw=True, reply=True, timeout=TIMEOUT)["content"]
        obs["history_after_restart"] = [e[2] for e in h["history"]]
        reply, msgs = run(kc, "answer")
        obs["after_restart"] = {"status": reply["content"]["status"], "evalue": reply["content"].get("evalue", "")}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    obs["alive_after_shutdown"] = km.is_alive()
    print(json.dumps(obs))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report what was observed so far, for a readable failure
        print(json.dumps({"exception": repr(e), **obs}))
        sys.exit(1)
