/**
 * The executor warms the type checker up in steps after it starts, answering requests between
 * them: a console's is_complete (which jupyter console waits for only a second) is not held up
 * by the warm-up. The steps are spaced out here (TSPOOL_WARM_UP_PAUSE_MS) so that the requests
 * surely arrive in the middle of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
beforeAll(async () => {
  k = await startKernel({ env: { TSPOOL_WARM_UP_LOG: "1", TSPOOL_WARM_UP_PAUSE_MS: "15" } });
});
afterAll(async () => {
  await k?.stop();
});

const FINISHED = /tspool: warm-up finished: (\d+) steps/;

describe("executor warm-up", () => {
  it("answers is_complete and completion while the type checker is still warming up, then finishes it", async () => {
    const incomplete = await k.client.request("shell", "is_complete_request", { code: "function f() {" });
    expect(incomplete.reply.content).toEqual({ status: "incomplete", indent: "  " });
    const complete = await k.client.request("shell", "is_complete_request", { code: "const x = 1;" });
    expect(complete.reply.content).toEqual({ status: "complete" });
    // Both answers came before the warm-up's end.
    expect(k.stderr()).not.toMatch(FINISHED);

    // A request that needs the type checker may finish the remaining work itself; the steps then end at once.
    const c = await k.client.request("shell", "complete_request", { code: "Math.fl", cursor_pos: 7 });
    expect(c.reply.content.matches).toContain("floor");
    const deadline = Date.now() + 20_000;
    while (!FINISHED.test(k.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(Number(FINISHED.exec(k.stderr())?.[1])).toBeGreaterThan(0);
    const r = await k.client.execute("const n: number = 41; n + 1");
    expect(r.result!.data["text/plain"]).toBe("42");
  });
});
