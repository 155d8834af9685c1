/**
 * Interrupts through the real kernel (interrupt_request on control, and SIGINT to the kernel
 * process): a synchronous infinite loop, a loop after an await, a pending await and a pending
 * input() all end with an "Interrupted" error, and the session's state survives.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
beforeAll(async () => {
  k = await startKernel();
  await k.client.execute("let kept = 41; const started = Date.now();");
});
afterAll(async () => {
  await k?.stop();
});

async function interrupted(code: string, how: "request" | "signal" = "request", opts: { onInput?: () => string } = {}) {
  const { done } = await k.client.startExecute(code, { timeoutMs: 15_000, ...opts });
  await new Promise((r) => setTimeout(r, 400)); // let the cell get going
  if (how === "request") {
    const { reply } = await k.client.request("control", "interrupt_request", {});
    expect(reply.header.msg_type).toBe("interrupt_reply");
  } else k.proc.kill("SIGINT");
  const r = await done;
  expect(r.reply.content.status).toBe("error");
  expect(r.error!.ename).toBe("Interrupted");
  return r;
}

async function keptIs(n: number) {
  const r = await k.client.execute("kept");
  expect(r.result!.data["text/plain"]).toBe(String(n));
}

describe("interrupt", () => {
  it("stops a synchronous infinite loop; globals survive", async () => {
    await interrupted("kept = 42;\nwhile (true) {}");
    await keptIs(42);
  });

  it("keeps what the interrupted cell declared and reached, typed, for the next cells", async () => {
    await interrupted("let steps = 0;\nconst reachedBefore: string = 'yes';\nwhile (true) steps++;");
    const r = await k.client.execute("const sofar: number = steps;\n[sofar > 0, reachedBefore.length]");
    expect(r.error).toBeUndefined();
    expect(r.result!.data["text/plain"]).toBe("[ true, 3 ]");
  });

  for (const [schedule, value] of [["setTimeout", 43], ["setImmediate", 44]] as const) {
    it(`stops a loop in a ${schedule} callback without losing the session`, async () => {
      const flag = join(k.cwd, `looping-${schedule}.txt`);
      const { done } = await k.client.startExecute(
        `${schedule}(() => { kept = ${value}; require("node:fs").writeFileSync(${JSON.stringify(flag)}, "yes"); while (true) {} }${schedule === "setTimeout" ? ", 50" : ""});\nawait new Promise((r) => setTimeout(r, 5000));`,
        { timeoutMs: 15_000 },
      );
      // Interrupt only once the callback's loop has surely started (its output could not leave a blocked executor).
      while (!existsSync(flag)) await new Promise((r) => setTimeout(r, 20));
      await k.client.request("control", "interrupt_request", {});
      const r = await done;
      expect(r.error!.ename).toBe("Interrupted");
      await keptIs(value);
    });
  }

  it("stops a loop that runs after an await", async () => {
    await interrupted("await new Promise((r) => setTimeout(r, 10));\nkept = 43;\nfor (;;) {}");
    await keptIs(43);
  });

  it("abandons a pending await", async () => {
    await interrupted("kept = 44;\nawait new Promise(() => {});\nkept = 0;");
    await keptIs(44);
  });

  it("abandons a pending input()", async () => {
    await interrupted('const never = await input("waiting: ");');
    await keptIs(44);
  });

  it("works with SIGINT to the kernel process", async () => {
    await interrupted("kept = 45;\nwhile (true) {}", "signal");
    await keptIs(45);
  });

  it("leaves functions and later cells working, and an idle interrupt harmless", async () => {
    await k.client.execute("function twice(x: number) { return 2 * x; }");
    await interrupted("while (twice(1) === 2) {}");
    const { reply } = await k.client.request("control", "interrupt_request", {});
    expect(reply.content.status).toBe("ok");
    await new Promise((r) => setTimeout(r, 400));
    const r = await k.client.execute("twice(kept)");
    expect(r.result!.data["text/plain"]).toBe("90");
  });
});
