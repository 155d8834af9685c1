/**
 * Completion never runs the session's code (getters, proxy traps), so Tab cannot hang the kernel
 * or end the session; and a completion the executor cannot answer — it is blocked when an
 * interrupt comes, or it dies meanwhile — still gets a reply, the shell queue moves on and the
 * user hears what happened. Through the real kernel.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { withKernel, type RunningKernel } from "../helpers/start-kernel.js";
import { useKernel } from "../helpers/kernel-session.js";
import { plain } from "../helpers/kernel-client.js";

async function complete(k: RunningKernel, code: string, timeoutMs = 15_000) {
  const { reply } = await k.client.request("shell", "complete_request", { code, cursor_pos: [...code].length }, timeoutMs);
  expect(reply.content.status).toBe("ok");
  return reply.content as { matches: string[]; cursor_start: number; cursor_end: number };
}

async function until(file: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("completion of live values typed any", () => {
  const s = useKernel({}, async ({ kernel }) => {
    const r = await kernel.client.execute(
      [
        "let getterCalls = 0;",
        'const slow: any = {}; Object.defineProperty(slow, "x", { get() { while (true) {} } });',
        'const bad: any = {}; Object.defineProperty(bad, "boom", { get() { process.exit(3) } });',
        "const lazy: any = { get counted() { getterCalls++; return { inner: 1 } }, plain: { deep: 1 } };",
        "const trap = () => { getterCalls++; while (true) {} };",
        "const prox: any = new Proxy({ a: { b: 1 } }, { get: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap, has: trap });",
        "const viaProto: any = Object.create(prox); viaProto.ownKey = 1;",
        "class Base { inherited() {} }",
        "const inst: any = new Base(); inst.field = { leaf: 1 };",
        "let sentinel = 42;",
      ].join("\n"),
    );
    expect(r.error).toBeUndefined();
  });

  it("does not call a getter that loops for ever: the reply comes, and the kernel keeps answering", async () => {
    expect((await complete(s.kernel, "slow.x.")).matches).toEqual([]);
    expect((await complete(s.kernel, "slow.")).matches).toContain("x");
    expect(plain(await s.kernel.client.execute("sentinel + 1"))).toBe("43");
  });

  it("does not call a getter that calls process.exit: the session keeps its state", async () => {
    expect((await complete(s.kernel, "bad.boom.x")).matches).toEqual([]);
    expect(plain(await s.kernel.client.execute("sentinel"))).toBe("42");
  });

  it("does not run proxy traps, neither on the value nor on a prototype", async () => {
    expect((await complete(s.kernel, "prox.")).matches).toEqual([]);
    expect((await complete(s.kernel, "prox.a.")).matches).toEqual([]);
    expect((await complete(s.kernel, "viaProto.own")).matches).toEqual(["ownKey"]);
    expect(plain(await s.kernel.client.execute("getterCalls"))).toBe("0");
  });

  it("still offers own and inherited data members, and names of accessors without reading them", async () => {
    expect((await complete(s.kernel, "lazy.")).matches).toEqual(expect.arrayContaining(["counted", "plain"]));
    expect((await complete(s.kernel, "lazy.plain.")).matches).toContain("deep");
    expect((await complete(s.kernel, "lazy.counted.")).matches).toEqual([]);
    expect((await complete(s.kernel, "inst.")).matches).toEqual(expect.arrayContaining(["field", "inherited", "hasOwnProperty"]));
    expect((await complete(s.kernel, "inst.field.le")).matches).toEqual(["leaf"]);
    expect(plain(await s.kernel.client.execute("getterCalls"))).toBe("0");
  });
});

// Each test leaves its executor blocked or dead: a kernel of its own.
describe("a completion the executor cannot answer", () => {
  it("gets a reply once interrupted, even while the executor is blocked in a native call, and the shell queue moves on", () => withKernel(async (k) => {
    const blocked = join(k.cwd, "blocked");
    // A timer of an earlier cell blocks the executor in a call JavaScript cannot stop (for 60 s).
    const armed = await k.client.execute(
      `setTimeout(() => { require("node:fs").writeFileSync(${JSON.stringify(blocked)}, ""); require("node:child_process").execSync("sleep 60") }, 100); "armed"`,
    );
    expect(plain(armed)).toBe("'armed'");
    await until(blocked);
    const msgId = await k.client.send("shell", "complete_request", { code: "Mat", cursor_pos: 3 });
    const reply = k.client.waitReply(msgId, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    await k.client.request("control", "interrupt_request", {});
    expect((await reply).content.status).toBe("ok");
    // The next request is not stuck behind the completion.
    const info = await k.client.request("shell", "kernel_info_request", {}, 10_000);
    expect(info.reply.content.status).toBe("ok");
  }));

  it("gets a reply when the executor dies meanwhile, and the cell whose timer ended it is told", () => withKernel(async (k) => {
    const spinning = join(k.cwd, "spinning");
    const armed = await k.client.execute(
      `setTimeout(() => { require("node:fs").writeFileSync(${JSON.stringify(spinning)}, ""); const end = Date.now() + 1500; while (Date.now() < end) {} process.exit(6) }, 100); "armed"`,
    );
    expect(plain(armed)).toBe("'armed'");
    await until(spinning);
    // Sent while the executor spins: it dies before it could answer.
    expect((await complete(k, "Mat")).matches).toEqual([]);
    const notice = await k.client.waitIopub((m) => m.header.msg_type === "stream" && /called process\.exit\(6\)/.test(m.content.text), 20_000);
    expect(notice.parent_header.msg_id).toBe(armed.msgId);
    expect(notice.content.text).toMatch(/a new one was started and the session's state is gone/);
    expect(plain(await k.client.execute("1 + 1", { timeoutMs: 20_000 }))).toBe("2");
  }));
});
