/**
 * The executor process ending through JavaScript or through the loss of its kernel, with the
 * real kernel: a cell calling process.exit() gets an error that says so (and the next cell a
 * fresh executor) instead of hanging the kernel; an executor spinning in a synchronous loop
 * ends, with its %pool workers, when the kernel is killed.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { withKernel, type RunningKernel } from "../helpers/start-kernel.js";
import { plain } from "../helpers/kernel-client.js";
import { useKernel } from "../helpers/kernel-session.js";
import { alive } from "../helpers/processes.js";
import { jupyterEnv, waitFor } from "../helpers/jupyter-env.js";
import { cellText, codeCells, readExecuted, runCli, tempDir, writeNotebook } from "../notebooks/helpers.js";

/** Pids of the notebook pool's workers (after `%pool start`). */
async function poolPids(k: RunningKernel): Promise<number[]> {
  const r = await k.client.execute("(pool as any).status().workers.map((w: any) => w.pid)");
  expect(r.error).toBeUndefined();
  return (plain(r) as string).match(/\d+/g)!.map(Number);
}

describe("a cell that calls process.exit()", () => {
  const s = useKernel();

  it.each([
    ["process.exit(3)", 3],
    ["process.exit()", 0],
    ["process.exitCode = 0; process.exit()", 0],
    ['console.log("before"); process.exitCode = 7; process.exit();\nconsole.log("never")', 7],
  ])("%s ends with an error naming process.exit and the restart; the next cell runs in a fresh executor", async (code, exitCode) => {
    await s.kernel.client.execute("const keepMe = 1");
    const before = Number(plain(await s.kernel.client.execute("process.pid")));
    const r = await s.kernel.client.execute(code, { timeoutMs: 20_000 });
    expect(r.reply.content.status).toBe("error");
    expect(r.reply.content.ename).toBe("ExecutorDied");
    expect(r.reply.content.evalue).toContain(`The cell called process.exit(${exitCode})`);
    expect(r.reply.content.evalue).toMatch(/a new one has been started and the session's earlier state .* is gone/);
    expect(r.error!.traceback[0]).toContain(`process.exit(${exitCode})`);
    expect(r.stdout).not.toContain("never");
    const after = await s.kernel.client.execute("typeof (globalThis as any).keepMe", { timeoutMs: 20_000 });
    expect(plain(after)).toBe("'undefined'");
    const pid = Number(plain(await s.kernel.client.execute("process.pid")));
    expect(pid).not.toBe(before);
    expect(alive(before)).toBe(false);
  });

  it("takes the notebook pool's workers down with the executor", async () => {
    const start = await s.kernel.client.execute("%pool start 2", { timeoutMs: 60_000 });
    expect(start.reply.content.status).toBe("ok");
    const workers = await poolPids(s.kernel);
    expect(workers).toHaveLength(2);
    expect(workers.every(alive)).toBe(true);
    const r = await s.kernel.client.execute("process.exit(4)", { timeoutMs: 20_000 });
    expect(r.reply.content.evalue).toContain("The cell called process.exit(4)");
    await waitFor("the pool's workers to end", 10_000, () => (workers.some(alive) ? undefined : true));
  });

  it("tells the cell whose timer called process.exit after it finished, and runs the next cell", async () => {
    // The timer ends the process once the test says so: after a later cell has finished.
    const first = await s.kernel.client.execute(
      'const fs = require("node:fs");\nsetInterval(() => { if (fs.existsSync("exit-now")) process.exit(5); }, 20);\n"scheduled"',
    );
    expect(plain(first)).toBe("'scheduled'");
    const second = await s.kernel.client.execute("'a later cell'");
    expect(plain(second)).toBe("'a later cell'");
    writeFileSync(join(s.kernel.cwd, "exit-now"), "");
    const notice = await s.kernel.client.waitIopub(
      (m) => m.header.msg_type === "stream" && m.content.name === "stderr" && /called process\.exit\(5\)/.test(m.content.text),
      20_000,
    );
    expect(notice.parent_header.msg_id).toBe(first.msgId);
    expect(notice.content.text).toMatch(/a timer or callback\) called process\.exit\(5\) after the cell had finished.*a new one was started and the session's state is gone/);
    expect(plain(await s.kernel.client.execute("1 + 1"))).toBe("2");
  });
});

describe("output written just before the executor ends reaches the cell, as plain Node would print it", () => {
  const s = useKernel();

  it.each([
    ['console.log("bye 0"); process.exit(0)', "bye 0\n", "", "process.exit(0)"],
    ['process.stdout.write("raw\\n"); console.error("err line"); process.exitCode = 3; process.exit()', "raw\n", "err line\n", "process.exit(3)"],
    ['console.log("a"); await new Promise((r) => setTimeout(r, 50)); console.log("b"); process.exit(2)', "a\nb\n", "", "process.exit(2)"],
    ['console.log("before SIGKILL"); process.kill(process.pid, "SIGKILL")', "before SIGKILL\n", "", "signal SIGKILL"],
    ['console.error("aborting"); process.abort()', "", "aborting\n", "signal SIGABRT"],
  ])("%s", async (code, stdout, stderr, how) => {
    const r = await s.kernel.client.execute(code, { timeoutMs: 20_000 });
    expect(r.reply.content.ename).toBe("ExecutorDied");
    expect(r.reply.content.evalue).toContain(how);
    expect(r.stdout).toBe(stdout);
    if (stderr) expect(r.stderr.startsWith(stderr), r.stderr).toBe(true);
    // The output comes before the error, as it was written before the end.
    const kinds = r.iopub.map((m) => m.header.msg_type);
    if (stdout || stderr) expect(kinds.indexOf("stream")).toBeLessThan(kinds.indexOf("error"));
  });

  it("all of a large output written just before process.exit(), in order", async () => {
    const r = await s.kernel.client.execute('for (let i = 0; i < 100000; i++) console.log("line " + i); process.exit(0)', { timeoutMs: 30_000 });
    expect(r.reply.content.ename).toBe("ExecutorDied");
    const lines = r.stdout.split("\n");
    expect(lines.length).toBe(100001);
    expect(lines.every((l, i) => (i === 100000 ? l === "" : l === `line ${i}`))).toBe(true);
  });

  it("a write larger than the IPC channel takes at once, just before process.exit()", async () => {
    // The channel cannot write such a message out before the process ends: it reaches the kernel on its pipe.
    const r = await s.kernel.client.execute('process.stdout.write("y".repeat(3_000_000) + "\\n"); process.exit(0)', { timeoutMs: 30_000 });
    expect(r.reply.content.ename).toBe("ExecutorDied");
    expect(r.stdout.length).toBe(3_000_001);
    expect(/^y+\n$/.test(r.stdout)).toBe(true);
  });

  it("what a timer printed just before it called process.exit, below the cell that set the timer", async () => {
    const first = await s.kernel.client.execute('setTimeout(() => { console.log("last words from timer"); process.exit(1) }, 100); "set"');
    expect(plain(first)).toBe("'set'");
    const words = await s.kernel.client.waitIopub((m) => m.header.msg_type === "stream" && m.content.text.includes("last words from timer"), 20_000);
    expect(words.parent_header.msg_id).toBe(first.msgId);
    expect(words.content.name).toBe("stdout");
    const notice = await s.kernel.client.waitIopub((m) => m.header.msg_type === "stream" && /called process\.exit\(1\)/.test(m.content.text), 20_000);
    expect(s.kernel.client.iopubLog.indexOf(words)).toBeLessThan(s.kernel.client.iopubLog.indexOf(notice));
    expect(plain(await s.kernel.client.execute("1 + 1", { timeoutMs: 20_000 }))).toBe("2");
  });
});

/** A cell that makes the executor write `file` from its exit handlers, i.e. only if it exits by itself. */
const onExitWrite = (file: string) => `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(file)}, "exited cleanly"));`;

describe("the executor's own ways out", () => {
  it("a kernel shutdown lets the executor exit by itself: its exit handlers run", async () => {
    await withKernel(async (k) => {
      expect((await k.client.execute(onExitWrite("shutdown.txt"))).reply.content.status).toBe("ok");
      const executor = Number(plain(await k.client.execute("process.pid")));
      await k.client.request("control", "shutdown_request", { restart: false });
      expect(await k.exited).toEqual({ code: 0, signal: null });
      expect(alive(executor)).toBe(false);
      expect(readFileSync(join(k.cwd, "shutdown.txt"), "utf8")).toBe("exited cleanly");
    });
  });

  it("a cell that cuts the executor's IPC channel gets an error, and the next cell a fresh executor", async () => {
    await withKernel(async (k) => {
      const r = await k.client.execute("process.disconnect!()", { timeoutMs: 20_000 });
      expect(r.reply.content.ename).toBe("ExecutorDied");
      expect(r.reply.content.evalue).toContain("The executor process died (exit code 0) while handling this request");
      expect(plain(await k.client.execute("1 + 1", { timeoutMs: 20_000 }))).toBe("2");
    });
  });

  it("an idle executor whose kernel is killed exits by itself: its exit handlers run", async () => {
    await withKernel(async (k) => {
      expect((await k.client.execute(onExitWrite("orphaned.txt"))).reply.content.status).toBe("ok");
      const executor = Number(plain(await k.client.execute("process.pid")));
      k.proc.kill("SIGKILL");
      await k.exited;
      await waitFor("the executor to end", 10_000, () => (alive(executor) ? undefined : true));
      expect(readFileSync(join(k.cwd, "orphaned.txt"), "utf8")).toBe("exited cleanly");
    });
  });
});

describe("an executor whose kernel is killed", () => {
  it("ends even while a cell spins in a synchronous loop, and its pool's workers end too", async () => {
    await withKernel(async (k) => {
      const executor = Number(plain(await k.client.execute("process.pid")));
      expect((await k.client.execute("%pool start 2", { timeoutMs: 60_000 })).reply.content.status).toBe("ok");
      const workers = await poolPids(k);
      expect(workers).toHaveLength(2);
      const spin = await k.client.startExecute("while (true) {}");
      await k.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === spin.msgId);
      await new Promise((r) => setTimeout(r, 300)); // surely in the loop
      // What jupyter_client's shutdown_kernel(now=True) does to the kernel (its group does not hold the executor).
      k.proc.kill("SIGKILL");
      await k.exited;
      await waitFor("the executor and its workers to end", 10_000, () => ([executor, ...workers].some(alive) ? undefined : true));
    });
  });
});

describe("processes a cell started end with the session, as ipykernel's children do", () => {
  /** Starts `sleep` from a cell (a pool worker's task with `onWorker`); returns its pid. */
  async function startSleep(k: RunningKernel, onWorker = false): Promise<number> {
    const start = 'require("node:child_process").spawn("sleep", ["1000"], { stdio: "ignore" }).pid';
    const r = onWorker ? await k.client.execute(`%%pool map [1] --out pids\n(n: number) => ${start}`, { timeoutMs: 60_000 }) : await k.client.execute(start);
    expect(r.error).toBeUndefined();
    const pid = onWorker ? Number((plain(await k.client.execute("pids[0]")) as string)) : Number(plain(r));
    expect(alive(pid)).toBe(true);
    return pid;
  }

  const stray: number[] = [];
  afterAll(() => {
    for (const pid of stray) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  it("on a shutdown request", async () => {
    await withKernel(async (k) => {
      const child = await startSleep(k);
      stray.push(child);
      await k.client.request("control", "shutdown_request", { restart: false });
      expect(await k.exited).toEqual({ code: 0, signal: null });
      await waitFor("the cell's child to end", 10_000, () => (alive(child) ? undefined : true));
    });
  });

  it("when the kernel is killed (jupyter_client's shutdown_kernel(now=True)), also a child of a pool worker", async () => {
    await withKernel(async (k) => {
      const child = await startSleep(k);
      expect((await k.client.execute("%pool start 1", { timeoutMs: 60_000 })).reply.content.status).toBe("ok");
      const workers = await poolPids(k);
      const grandchild = await startSleep(k, true);
      stray.push(child, grandchild, ...workers);
      k.proc.kill("SIGKILL");
      await k.exited;
      await waitFor("the children and workers to end", 10_000, () => ([child, grandchild, ...workers].some(alive) ? undefined : true));
    });
  });

  it("when the kernel is killed while a cell spins", async () => {
    await withKernel(async (k) => {
      const child = await startSleep(k);
      stray.push(child);
      const spin = await k.client.startExecute("while (true) {}");
      await k.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === spin.msgId);
      await new Promise((r) => setTimeout(r, 300));
      k.proc.kill("SIGKILL");
      await k.exited;
      await waitFor("the cell's child to end", 10_000, () => (alive(child) ? undefined : true));
    });
  });

  it("when a cell's process.exit() restarts the executor; the new session's children are not touched", async () => {
    await withKernel(async (k) => {
      const child = await startSleep(k);
      stray.push(child);
      expect((await k.client.execute("process.exit(0)", { timeoutMs: 20_000 })).reply.content.ename).toBe("ExecutorDied");
      await waitFor("the old session's child to end", 10_000, () => (alive(child) ? undefined : true));
      const next = await startSleep(k);
      stray.push(next);
      await new Promise((r) => setTimeout(r, 500));
      expect(alive(next)).toBe(true);
    });
  });
});

describe("through the frontends", () => {
  it("tspool run reports the cell's process.exit and runs the following cells", { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "exit.ipynb", ["console.log('first')", "process.exit(3)", "'after'"]);
    const out = join(dir, "done.ipynb");
    // Far below the runner's default per-cell limit (600 s), which a hang would run into.
    const r = await runCli(["run", nb, "--allow-errors", "--out", out], { limitMs: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    const [, exiting, after] = codeCells(readExecuted(out));
    const error = exiting.outputs!.find((o) => o.output_type === "error");
    expect(error.ename).toBe("ExecutorDied");
    expect(error.evalue).toContain("The cell called process.exit(3)");
    expect(cellText(after)).toContain("'after'");
  });

  it("jupyter_client gets the reply of a cell calling process.exit, and shutdown_kernel(now=True) leaves no executor spinning", { timeout: 180_000 }, async () => {
    const jenv = await jupyterEnv();
    // One JSON line of observations; the kernel's process group is killed as jupyter_client does it.
    const script = `
import json, os, subprocess, time
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="tspool")
km.start_kernel(cwd=${JSON.stringify(jenv.dir)})
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
def reply(code, timeout):
    mid = kc.execute(code)
    while True:
        m = kc.get_shell_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") == mid: return m["content"]
obs = {}
try:
    obs["exit"] = reply("process.exit(3)", 60)
    obs["next"] = reply("process.pid", 60)
    executor = int(subprocess.run(["pgrep", "-P", str(km.provisioner.pid)], capture_output=True, text=True).stdout.split()[0])
    kc.execute("while (true) {}")
    time.sleep(1)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    deadline = time.time() + 15
    while os.path.exists("/proc/%d" % executor) and time.time() < deadline: time.sleep(0.1)
    obs["executor_left"] = os.path.exists("/proc/%d" % executor)
finally:
    if km.is_alive(): km.shutdown_kernel(now=True)
print(json.dumps(obs))
`;
    const run = spawnSync("python3", ["-c", script], { encoding: "utf8", timeout: 150_000, env: { ...jenv.env, TSPOOL_HISTORY_FILE: join(jenv.dir, "history.jsonl") } });
    const last = run.stdout.trim().split("\n").pop() ?? "";
    let obs: Record<string, any>;
    try {
      obs = JSON.parse(last);
    } catch {
      throw new Error(`the jupyter_client script printed no observations (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
    expect(obs.exit.status).toBe("error");
    expect(obs.exit.ename).toBe("ExecutorDied");
    expect(obs.exit.evalue).toContain("The cell called process.exit(3)");
    expect(obs.next.status).toBe("ok");
    expect(obs.executor_left).toBe(false);
  });
});
