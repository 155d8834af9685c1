/**
 * The request/reply messages of the Jupyter protocol, through the real kernel over zeromq.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";
import type { JupyterMessage } from "../../kernel/wire/message.js";

let k: RunningKernel;
beforeAll(async () => {
  k = await startKernel();
});
afterAll(async () => {
  await k?.stop();
});

function types(msgs: JupyterMessage[]): string[] {
  return msgs.map((m) => (m.header.msg_type === "status" ? `status:${m.content.execution_state}` : m.header.msg_type));
}

describe("kernel_info", () => {
  it("answers on shell and on control with the TypeScript language info", async () => {
    for (const channel of ["shell", "control"] as const) {
      const { reply, iopub } = await k.client.request(channel, "kernel_info_request", {});
      expect(reply.header.msg_type).toBe("kernel_info_reply");
      const c = reply.content;
      expect(c.status).toBe("ok");
      expect(c.protocol_version).toMatch(/^5\.[3-9]/);
      expect(c.implementation).toBe("tspool");
      expect(c.implementation_version).toMatch(/^\d+\.\d+\.\d+/);
      expect(c.language_info.name).toBe("typescript");
      expect(c.language_info.version).toMatch(/^5\.\d+\.\d+/);
      expect(c.language_info.file_extension).toBe(".ts");
      expect(c.language_info.mimetype).toBe("text/typescript");
      expect(c.language_info.codemirror_mode).toBeTruthy();
      expect(c.banner).toContain("tspool");
      expect(Array.isArray(c.help_links)).toBe(true);
      expect(types(iopub)).toEqual(["status:busy", "status:idle"]);
    }
  });
});

describe("execute", () => {
  it("publishes busy, execute_input, execute_result, idle with the request as parent, and counts", async () => {
    const before = (await k.client.execute("1")).reply.content.execution_count;
    const r = await k.client.execute("6 * 7");
    expect(r.reply.header.msg_type).toBe("execute_reply");
    expect(r.reply.content.status).toBe("ok");
    expect(r.reply.content.execution_count).toBe(before + 1);
    expect(types(r.iopub)).toEqual(["status:busy", "execute_input", "execute_result", "status:idle"]);
    expect(r.iopub.every((m) => m.parent_header.msg_id === r.msgId)).toBe(true);
    const input = r.iopub.find((m) => m.header.msg_type === "execute_input")!;
    expect(input.content).toEqual({ code: "6 * 7", execution_count: before + 1 });
    expect(r.result!.execution_count).toBe(before + 1);
    expect(r.result!.data["text/plain"]).toBe("42");
  });

  it("streams stdout and stderr of the cell", async () => {
    const r = await k.client.execute('console.log("out line"); console.error("err line");');
    expect(r.reply.content.status).toBe("ok");
    expect(r.stdout).toContain("out line\n");
    expect(r.stderr).toContain("err line\n");
  });

  it("passes many small writes on whole and in order, before the result", async () => {
    const r = await k.client.execute('for (let i = 0; i < 2000; i++) console.log("line " + i); "end"');
    const expected = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join("");
    expect(r.stdout).toBe(expected);
    const order = types(r.iopub);
    expect(order.lastIndexOf("stream")).toBeLessThan(order.indexOf("execute_result"));
  });

  it("reports a runtime error as an error message and an error reply, then keeps answering", async () => {
    const r = await k.client.execute('throw new RangeError("too far")');
    expect(r.reply.content.status).toBe("error");
    expect(r.reply.content.ename).toBe("RangeError");
    expect(r.reply.content.evalue).toContain("too far");
    expect(Array.isArray(r.reply.content.traceback)).toBe(true);
    expect(r.error).toBeDefined();
    expect(r.error!.ename).toBe("RangeError");
    expect(r.error!.traceback.join("\n")).toContain("too far");
    const next = await k.client.execute("2 + 3");
    expect(next.reply.content.status).toBe("ok");
    expect(next.result!.data["text/plain"]).toBe("5");
  });

  it("silent: no execute_input, no result, no counting", async () => {
    const count = (await k.client.execute("0")).reply.content.execution_count;
    const r = await k.client.execute('console.log("hidden"); 99', { silent: true });
    expect(r.reply.content.status).toBe("ok");
    expect(types(r.iopub)).toEqual(["status:busy", "status:idle"]);
    const after = await k.client.execute("0");
    expect(after.reply.content.execution_count).toBe(count + 1);
  });

  it("store_history false: output but no counting", async () => {
    const count = (await k.client.execute("0")).reply.content.execution_count;
    const r = await k.client.execute("40 + 2", { store_history: false });
    expect(r.result!.data["text/plain"]).toBe("42");
    expect(r.reply.content.execution_count).toBe(count);
    expect((await k.client.execute("0")).reply.content.execution_count).toBe(count + 1);
  });

  it("evaluates user_expressions in the session after the cell: a bundle per expression, or an error entry", async () => {
    const r = await k.client.execute("const uxBase = 20;", {
      user_expressions: { sum: "uxBase + 22", text: "`n=${uxBase}`", later: "await Promise.resolve(uxBase * 2)", bad: "uxBase.nope", broken: "missingName" },
    });
    expect(r.reply.content.status).toBe("ok");
    const ux = r.reply.content.user_expressions;
    expect(ux.sum).toEqual({ status: "ok", data: { "text/plain": "42" }, metadata: {} });
    expect(ux.text.data["text/plain"]).toBe("'n=20'");
    expect(ux.later.data["text/plain"]).toBe("40");
    expect(ux.bad.status).toBe("error");
    expect(ux.bad.evalue).toMatch(/nope/);
    expect(ux.broken).toMatchObject({ status: "error" });
    expect(ux.broken.evalue).toMatch(/missingName/);
    // Silent: the expressions print nothing and leave `_` alone; the cell had no result either.
    expect(r.iopub.map((m) => m.header.msg_type)).not.toContain("execute_result");
    expect(r.stdout).toBe("");
    const quiet = await k.client.execute("1", { user_expressions: { logged: "(console.log('from expression'), 5)" } });
    expect(quiet.reply.content.user_expressions.logged.data["text/plain"]).toBe("5");
    expect(quiet.stdout).toBe("");
    expect((await k.client.execute("_")).result!.data["text/plain"]).toBe("1");
  });

  it("answers exit and quit with the ask_exit payload and keeps running", async () => {
    for (const [code, keep] of [["exit", false], ["quit()", false], ["exit(true)", true], ["quit;", false]] as const) {
      const r = await k.client.execute(code);
      expect(r.reply.content.status).toBe("ok");
      expect(r.reply.content.payload).toEqual([{ source: "ask_exit", keepkernel: keep }]);
    }
    expect((await k.client.execute("6 * 7")).result!.data["text/plain"]).toBe("42");
    // A session's own `quit` is just a value.
    await k.client.execute("const quit = 'mine';");
    const own = await k.client.execute("quit");
    expect(own.reply.content.payload).toEqual([]);
    expect(own.result!.data["text/plain"]).toBe("'mine'");
  });

  it("after an error with stop_on_error, aborts only the executes queued at that moment", async () => {
    // The first cell waits a little so that the next two are queued while it runs.
    const first = await k.client.startExecute('await new Promise((r) => setTimeout(r, 300)); throw new Error("boom")');
    const queued = await k.client.startExecute("1 + 1");
    const queuedComplete = await k.client.send("shell", "is_complete_request", { code: "1 +" });
    const a = await first.done;
    expect(a.reply.content.status).toBe("error");
    const b = await queued.done;
    expect(b.reply.content.status).toBe("aborted");
    expect(types(b.iopub)).toEqual(["status:busy", "status:idle"]);
    expect((await k.client.waitReply(queuedComplete)).header.msg_type).toBe("is_complete_reply");
    // Sent after the error: runs normally.
    const c = await k.client.execute("3 + 4");
    expect(c.reply.content.status).toBe("ok");
    expect(c.result!.data["text/plain"]).toBe("7");
  });

  it("does not abort queued executes when stop_on_error is false", async () => {
    const first = await k.client.startExecute('await new Promise((r) => setTimeout(r, 300)); throw new Error("boom")', { stop_on_error: false });
    const queued = await k.client.startExecute("5 + 5");
    expect((await first.done).reply.content.status).toBe("error");
    const b = await queued.done;
    expect(b.reply.content.status).toBe("ok");
    expect(b.result!.data["text/plain"]).toBe("10");
  });
});

describe("complete, inspect, is_complete", () => {
  it("completes with cursor positions in code points, also after astral characters", async () => {
    await k.client.execute("globalThis.zebraStripes = 1; globalThis.zebraCount = 2;");
    const code = 'const s = "😀😀"; zebra';
    const cursor = [...code].length; // code points
    const { reply } = await k.client.request("shell", "complete_request", { code, cursor_pos: cursor });
    expect(reply.header.msg_type).toBe("complete_reply");
    expect(reply.content.status).toBe("ok");
    expect(reply.content.matches).toEqual(expect.arrayContaining(["zebraStripes", "zebraCount"]));
    expect(reply.content.cursor_end).toBe(cursor);
    expect(reply.content.cursor_start).toBe(cursor - "zebra".length);
  });

  it("inspects the name at the cursor", async () => {
    await k.client.execute("function inspectedFn(a: number): string { return String(a); }");
    const code = "inspectedFn";
    const { reply } = await k.client.request("shell", "inspect_request", { code, cursor_pos: code.length, detail_level: 0 });
    expect(reply.header.msg_type).toBe("inspect_reply");
    expect(reply.content.status).toBe("ok");
    expect(reply.content.found).toBe(true);
    expect(typeof reply.content.data["text/plain"]).toBe("string");
  });

  it("tells complete from incomplete code, with an indent", async () => {
    const done = await k.client.request("shell", "is_complete_request", { code: "const a = 1;" });
    expect(done.reply.header.msg_type).toBe("is_complete_reply");
    expect(done.reply.content.status).toBe("complete");
    const open = await k.client.request("shell", "is_complete_request", { code: "function f() {" });
    expect(open.reply.content.status).toBe("incomplete");
    expect(typeof open.reply.content.indent).toBe("string");
  });
});

describe("comms", () => {
  it("comm_info_reply lists no comms", async () => {
    const { reply } = await k.client.request("shell", "comm_info_request", {});
    expect(reply.header.msg_type).toBe("comm_info_reply");
    expect(reply.content).toEqual({ status: "ok", comms: {} });
  });

  it("closes a comm opened to an unknown target", async () => {
    const id = await k.client.send("shell", "comm_open", { comm_id: "c-123", target_name: "no.such.target", data: {} });
    const close = await k.client.waitIopub((m) => m.header.msg_type === "comm_close" && m.parent_header.msg_id === id);
    expect(close.content.comm_id).toBe("c-123");
    await k.client.waitIdle(id);
  });
});

describe("bad requests", () => {
  it("answer with an error reply that says what was wrong, and the kernel keeps its state", async () => {
    await k.client.execute("(globalThis as any).survivor = 7");
    const exec = await k.client.request("shell", "execute_request", { silent: false });
    expect(exec.reply.content.status).toBe("error");
    expect(exec.reply.content.evalue).toMatch(/"code" to be a string/);
    const complete = await k.client.request("shell", "complete_request", { code: 42, cursor_pos: 1 });
    expect(complete.reply.header.msg_type).toBe("complete_reply");
    expect(complete.reply.content.status).toBe("error");
    const history = await k.client.request("shell", "history_request", { hist_access_type: "sideways" });
    expect(history.reply.content.status).toBe("error");
    expect(history.reply.content.evalue).toMatch(/"tail", "range" or "search"/);
    const unknown = await k.client.request("shell", "frobnicate_request", {});
    expect(unknown.reply.header.msg_type).toBe("frobnicate_reply");
    expect(unknown.reply.content.status).toBe("error");
    expect(unknown.reply.content.ename).toBe("UnknownMessageType");
    const onControl = await k.client.request("control", "execute_request", { code: "1" });
    expect(onControl.reply.header.msg_type).toBe("execute_reply");
    expect(onControl.reply.content.status).toBe("error");
    const after = await k.client.execute("(globalThis as any).survivor");
    expect(after.result!.data["text/plain"]).toBe("7");
  });
});
