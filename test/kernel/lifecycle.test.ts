/**
 * The kernel as a process: signatures, heartbeat, interrupts, executor death, shutdown and
 * restart, and history kept across restarts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMessage } from "../../kernel/wire/message.js";
import { createSigner } from "../../kernel/wire/signing.js";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a running kernel", () => {
  let k: RunningKernel;
  beforeAll(async () => {
    k = await startKernel();
  });
  afterAll(async () => {
    await k?.stop();
  });

  it("drops a message with a bad signature without running it, logs it, and keeps working", async () => {
    const forged = k.client.message("execute_request", {
      code: "globalThis.forgedRan = true",
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    await k.client.sendFrames("shell", encodeMessage(forged, createSigner("not-the-key")));
    const check = await k.client.execute("typeof (globalThis as any).forgedRan");
    expect(check.result!.data["text/plain"]).toBe("'undefined'");
    expect(k.client.replyLog.some((m) => m.parent_header.msg_id === forged.header.msg_id)).toBe(false);
    expect(k.client.iopubOf(forged.header.msg_id)).toEqual([]);
    expect(k.stderr()).toMatch(/dropped a message on shell: invalid signature/);
  });

  it("answers the heartbeat while a cell keeps the executor busy", async () => {
    const busy = await k.client.startExecute("const until = Date.now() + 1500; while (Date.now() < until) {} 'done'");
    await k.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === busy.msgId);
    await sleep(200);
    expect(await k.client.heartbeat(1000)).toBe(true);
    const kernelInfo = await k.client.request("control", "kernel_info_request", {}, 1000);
    expect(kernelInfo.reply.content.implementation).toBe("tspool");
    const r = await busy.done;
    expect(r.result!.data["text/plain"]).toBe("'done'");
  });

  it("interrupt_request on control abandons a pending await; the session's state survives", async () => {
    await k.client.execute("(globalThis as any).keptValue = 41");
    const stuck = await k.client.startExecute("await new Promise(() => {})");
    await k.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === stuck.msgId);
    await sleep(100);
    const { reply } = await k.client.request("control", "interrupt_request", {});
    expect(reply.header.msg_type).toBe("interrupt_reply");
    expect(reply.content.status).toBe("ok");
    const r = await stuck.done;
    expect(r.reply.content.status).toBe("error");
    expect(r.error).toBeDefined();
    const after = await k.client.execute("(globalThis as any).keptValue + 1");
    expect(after.result!.data["text/plain"]).toBe("42");
  });

  it("interrupt_request stops a synchronous infinite loop", async () => {
    const loop = await k.client.startExecute("while (true) {}");
    await k.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === loop.msgId);
    await sleep(300);
    await k.client.request("control", "interrupt_request", {});
    const r = await loop.done;
    expect(r.reply.content.status).toBe("error");
    const after = await k.client.execute("(globalThis as any).keptValue * 2");
    expect(after.result!.data["text/plain"]).toBe("82");
  });

  it("an interrupt while no cell runs does not affect the next cell", async () => {
    const { reply } = await k.client.request("control", "interrupt_request", {});
    expect(reply.content.status).toBe("ok");
    await sleep(400);
    const after = await k.client.execute("(globalThis as any).keptValue + 100");
    expect(after.reply.content.status).toBe("ok");
    expect(after.result!.data["text/plain"]).toBe("141");
  });

  it("SIGINT to the kernel process interrupts the running cell", async () => {
    const stuck = await k.client.startExecute("await new Promise(() => {})");
    await k.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === stuck.msgId);
    await sleep(100);
    k.proc.kill("SIGINT");
    const r = await stuck.done;
    expect(r.reply.content.status).toBe("error");
    expect(k.proc.exitCode).toBe(null);
    const after = await k.client.execute("(globalThis as any).keptValue");
    expect(after.result!.data["text/plain"]).toBe("41");
  });

  it("reports the executor's death as an error of the running cell and starts a new executor", async () => {
    const r = await k.client.execute('process.kill(process.pid, "SIGKILL"); await new Promise(() => {})');
    expect(r.reply.content.status).toBe("error");
    expect(r.reply.content.ename).toBe("ExecutorDied");
    expect(r.reply.content.evalue).toContain("SIGKILL");
    const after = await k.client.execute("1 + 1");
    expect(after.reply.content.status).toBe("ok");
    expect(after.result!.data["text/plain"]).toBe("2");
  });

  it("tells the notebook when the executor dies between cells, and runs the next cell in a new one", async () => {
    const first = await k.client.execute("process.pid");
    const pid = Number(first.result!.data["text/plain"]);
    process.kill(pid, "SIGKILL");
    const notice = await k.client.waitIopub(
      (m) => m.header.msg_type === "stream" && m.content.name === "stderr" && /executor process died/.test(m.content.text),
    );
    expect(notice.parent_header.msg_id).toBe(first.msgId);
    const next = await k.client.execute("process.pid");
    expect(next.reply.content.status).toBe("ok");
    expect(Number(next.result!.data["text/plain"])).not.toBe(pid);
  });

  it("shutdown_request on shell ends the kernel too", async () => {
    const { reply } = await k.client.request("shell", "shutdown_request", { restart: false });
    expect(reply.content).toEqual({ status: "ok", restart: false });
    expect(await k.exited).toEqual({ code: 0, signal: null });
  });
});

describe("process lifetime", () => {
  it("an executor that cannot start is reported on each cell while the kernel keeps answering", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tspool-broken-executor-"));
    const broken = join(dir, "broken-executor.mjs");
    writeFileSync(broken, 'process.stderr.write("cannot load the compiler\\n"); process.exit(3);\n');
    const k = await startKernel({ env: { TSPOOL_EXECUTOR: broken } });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await k.client.execute("1 + 1");
        expect(r.reply.content.status).toBe("error");
        expect(r.reply.content.ename).toBe("ExecutorUnavailable");
        expect(r.reply.content.evalue).toContain("exit code 3");
        expect(r.reply.content.evalue).toContain("cannot load the compiler");
      }
      const complete = await k.client.request("shell", "complete_request", { code: "Ma", cursor_pos: 2 });
      expect(complete.reply.content).toMatchObject({ status: "ok", matches: [] });
      const info = await k.client.request("control", "kernel_info_request", {});
      expect(info.reply.content.implementation).toBe("tspool");
      expect(await k.client.heartbeat()).toBe(true);
    } finally {
      await k.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the executor does not outlive a kernel that is killed", async () => {
    const k = await startKernel();
    const r = await k.client.execute("process.pid");
    const executorPid = Number(r.result!.data["text/plain"]);
    expect(executorPid).toBeGreaterThan(0);
    expect(executorPid).not.toBe(k.proc.pid);
    k.proc.kill("SIGKILL");
    await k.exited;
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try {
        process.kill(executorPid, 0);
        await sleep(100);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    await k.stop();
  });
});

describe("shutdown, restart and history", () => {
  it("shutdown_request with restart on control replies, broadcasts, exits; history survives into the next kernel", async () => {
    const first = await startKernel();
    const marker = `"history marker ${Date.now()}"`;
    await first.client.execute(marker);
    await first.client.execute("1 + 1");
    const { reply, iopub } = await first.client.request("control", "shutdown_request", { restart: true });
    expect(reply.header.msg_type).toBe("shutdown_reply");
    expect(reply.content).toEqual({ status: "ok", restart: true });
    expect(iopub.some((m) => m.header.msg_type === "shutdown_reply" && m.content.restart === true)).toBe(true);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    first.client.close();

    const second = await startKernel({ connection: first.connection, historyFile: first.historyFile });
    try {
      const tail = (await second.client.request("shell", "history_request", { hist_access_type: "tail", n: 10, output: false, raw: true })).reply;
      expect(tail.header.msg_type).toBe("history_reply");
      expect(tail.content.status).toBe("ok");
      const sources = tail.content.history.map((h: [number, number, string]) => h[2]);
      expect(sources).toEqual(expect.arrayContaining([marker, "1 + 1"]));
      const [session, line] = tail.content.history.find((h: [number, number, string]) => h[2] === marker);
      expect(line).toBe(1);

      await second.client.execute("const alpha = 1");
      await second.client.execute("const beta = 2");
      const range = (await second.client.request("shell", "history_request", { hist_access_type: "range", session: 0, start: 1, stop: 3, raw: true, output: false })).reply;
      expect(range.content.history.map((h: [number, number, string]) => h[2])).toEqual(["const alpha = 1", "const beta = 2"]);
      expect(range.content.history[0][0]).toBeGreaterThan(session);
      const previous = (await second.client.request("shell", "history_request", { hist_access_type: "range", session: -1, start: 1, raw: true, output: false })).reply;
      expect(previous.content.history.map((h: [number, number, string]) => h[2])).toEqual([marker, "1 + 1"]);

      await second.client.execute("const alpha = 1");
      const search = (await second.client.request("shell", "history_request", { hist_access_type: "search", pattern: "const a*", unique: true, raw: true, output: false })).reply;
      expect(search.content.history.map((h: [number, number, string]) => h[2])).toEqual(["const alpha = 1"]);
      const searchAll = (await second.client.request("shell", "history_request", { hist_access_type: "search", pattern: "const ?lpha*", n: 5, raw: true, output: false })).reply;
      expect(searchAll.content.history).toHaveLength(2);

      // Shutting down while a cell spins: the reply still comes, and kernel and executor both end.
      const executorPid = Number((await second.client.execute("process.pid")).result!.data["text/plain"]);
      const spinning = await second.client.startExecute("while (true) {}");
      await second.client.waitIopub((m) => m.header.msg_type === "execute_input" && m.parent_header.msg_id === spinning.msgId);
      const down = await second.client.request("control", "shutdown_request", { restart: false });
      expect(down.reply.content).toEqual({ status: "ok", restart: false });
      expect(await second.exited).toEqual({ code: 0, signal: null });
      expect(() => process.kill(executorPid, 0)).toThrow();
    } finally {
      await second.stop();
    }
  });
});
