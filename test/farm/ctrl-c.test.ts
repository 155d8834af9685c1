/**
 * A terminal's Ctrl-C sends SIGINT to the whole foreground process group: the program and its
 * process workers. A program that handles SIGINT itself (say, with pool.interrupt()) keeps its
 * workers and their state; a program that does not dies, and its workers with it, as they do
 * when the program is killed or terminated. Each program runs in its own process group.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { alive } from "../helpers/processes.js";

const program = fileURLToPath(new URL("./fixtures/ctrl-c-program.mjs", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run { pids: number[]; lines: string[]; ended: Promise<{ code: number | null; signal: string | null }>; pgid: number }

/** Starts the program as the leader of a new process group and waits until its workers spin. */
async function start(mode: string): Promise<Run> {
  const child = spawn(process.execPath, [program, mode], { stdio: ["ignore", "pipe", "inherit"], detached: true });
  const lines: string[] = [];
  const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  let buf = "";
  await new Promise<void>((resolve, reject) => {
    const hung = setTimeout(() => reject(new Error(`the program did not start its workers: ${lines.join(" | ")}`)), 30_000);
    child.stdout!.setEncoding("utf8").on("data", (t: string) => {
      buf += t;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
      if (parts.includes("RUNNING")) { clearTimeout(hung); resolve(); }
    });
  });
  const pids = JSON.parse(lines.find((l) => l.startsWith("PIDS "))!.slice(5)) as number[];
  return { pids, lines, ended, pgid: child.pid! };
}


async function allGone(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 150 && pids.some(alive); i++) await sleep(100);
  return pids.filter(alive);
}

describe("Ctrl-C in a terminal (SIGINT to the process group)", () => {
  it("leaves the workers of a program that handles SIGINT alive, with their state; its handler stops the tasks", async () => {
    const run = await start("handles-sigint");
    process.kill(-run.pgid, "SIGINT");
    const end = await run.ended;
    expect(end).toEqual({ code: 0, signal: null });
    expect(JSON.parse(run.lines.at(-1)!)).toEqual({
      outcome: { error: "InterruptedError", workerReplaced: false },
      state: ["kept", "kept"],
      restarts: [0, 0],
    });
    expect(await allGone(run.pids)).toEqual([]);
  });

  it("ends a program that does not handle it, and its workers with it", async () => {
    const run = await start("no-handler");
    process.kill(-run.pgid, "SIGINT");
    expect(await run.ended).toEqual({ code: null, signal: "SIGINT" });
    expect(await allGone(run.pids)).toEqual([]);
  });
});

describe("a program killed or terminated", () => {
  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`takes its spinning workers with it (${signal})`, async () => {
      const run = await start("no-handler");
      process.kill(run.pgid, signal);
      expect(await run.ended).toEqual({ code: null, signal });
      expect(await allGone(run.pids)).toEqual([]);
    });
  }
});
