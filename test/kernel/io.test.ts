/**
 * Output and input through the kernel: display_data, update_display_data, clear_output, and
 * input_request / input_reply on stdin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
beforeAll(async () => {
  k = await startKernel();
});
afterAll(async () => {
  await k?.stop();
});

describe("display", () => {
  it("publishes display_data, then update_display_data for the same display id, and clear_output", async () => {
    const r = await k.client.execute(
      'display.html("<b>first</b>", { id: "d1" }); display.html("<b>second</b>", { id: "d1", update: true }); clearOutput({ wait: true });',
    );
    expect(r.reply.content.status).toBe("ok");
    const [shown, updated, cleared] = r.displays;
    expect(shown.header.msg_type).toBe("display_data");
    expect(shown.content.data["text/html"]).toBe("<b>first</b>");
    expect(shown.content.transient.display_id).toBe("d1");
    expect(updated.header.msg_type).toBe("update_display_data");
    expect(updated.content.data["text/html"]).toBe("<b>second</b>");
    expect(updated.content.transient.display_id).toBe("d1");
    expect(cleared.header.msg_type).toBe("clear_output");
    expect(cleared.content.wait).toBe(true);
    expect(r.displays.every((m) => m.parent_header.msg_id === r.msgId)).toBe(true);
  });
});

describe("stdin", () => {
  it("sends input_request to the requester and resumes the cell with the reply", async () => {
    const r = await k.client.execute('const answer = await input("Name? "); answer.toUpperCase()', {
      onInput: (prompt) => (prompt === "Name? " ? "ada" : "wrong prompt"),
    });
    expect(r.inputRequests).toHaveLength(1);
    expect(r.inputRequests[0].header.msg_type).toBe("input_request");
    expect(r.inputRequests[0].content).toEqual({ prompt: "Name? ", password: false });
    expect(r.inputRequests[0].parent_header.msg_id).toBe(r.msgId);
    expect(r.reply.content.status).toBe("ok");
    expect(r.result!.data["text/plain"]).toContain("ADA");
  });

  it("marks password prompts", async () => {
    const r = await k.client.execute('(await input.password("Secret: ")).length', { onInput: () => "hunter2" });
    expect(r.inputRequests[0].content.password).toBe(true);
    expect(r.result!.data["text/plain"]).toBe("7");
  });

  it("does not send input_request when the request does not allow stdin", async () => {
    const before = k.client.stdinLog.length;
    const r = await k.client.execute('await input("never asked? ")', { allow_stdin: false });
    expect(r.inputRequests).toHaveLength(0);
    expect(k.client.stdinLog.length).toBe(before);
    expect(r.reply.content.status).toBe("error");
    expect(r.reply.content.evalue).toMatch(/allow_stdin/);
  });
});
