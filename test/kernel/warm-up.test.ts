/**
 * The executor warms the type checker up in steps after it starts, answering requests between
 * them: a console's is_complete (which jupyter console waits for only a second) is not held up
 * by the warm-up. The steps are spaced out here (TSPOOL_WARM_UP_PAUSE_MS) so that the requests
 * surely arrive in the middle of it.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
const cacheDir = mkdtempSync(join(tmpdir(), "tspool-code-cache-"));
beforeAll(async () => {
  k = await startKernel({ env: { TSPOOL_WARM_UP_LOG: "1", TSPOOL_WARM_UP_PAUSE_MS: "15", TSPOOL_CACHE_DIR: cacheDir } });
});
afterAll(async () => {
  await k?.stop();
  rmSync(cacheDir, { recursive: true, force: true });
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

  it("keeps a code cache of TypeScript after the warm-up, which the next kernel starts from", async () => {
    const deadline = Date.now() + 20_000;
    const cached = () => readdirSync(cacheDir).filter((f) => f.endsWith(".v8cache"));
    while (cached().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(cached()).toEqual([expect.stringMatching(/^typescript-[\d.]+-node.+\.v8cache$/)]);
    expect(k.stderr()).toMatch(/TypeScript code cache: compiled/);
    const next = await startKernel({ env: { TSPOOL_CACHE_DIR: cacheDir, TSPOOL_WARM_UP_LOG: "1" } });
    try {
      const until = Date.now() + 20_000;
      while (!FINISHED.test(next.stderr()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(next.stderr()).toMatch(/TypeScript code cache: used/);
      const r = await next.client.execute("const s: string = 'cached'; s.toUpperCase()");
      expect(r.result!.data["text/plain"]).toBe("'CACHED'");
      expect((await next.client.execute("let bad: number = 'x';")).error!.evalue).toMatch(/not assignable/);
    } finally {
      await next.stop();
    }
  });
});
