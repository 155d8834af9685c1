/**
 * `jupyter console` with the tspool kernel, typed into a real terminal (tmux) the way a person uses
 * it: a typed cell, a result, a multi-line `%%pool map` cell (the kernel's is_complete decides when
 * it runs; its worker-labelled lines and summary show although the console ignores display updates),
 * Tab completion of an earlier name, and a clean exit that shuts the kernel down.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jupyterEnv, processesMentioning, waitFor, type JupyterEnv } from "../helpers/jupyter-env.js";

const SOCKET = `tspool-console-${process.pid}`;
const SESSION = "console";
let env: JupyterEnv;

const tmux = (...args: string[]) => execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", SESSION);
const type = (text: string) => tmux("send-keys", "-t", SESSION, "-l", text);
const press = (...keys: string[]) => tmux("send-keys", "-t", SESSION, ...keys);
const sessionAlive = () => spawnSync("tmux", ["-L", SOCKET, "has-session", "-t", SESSION]).status === 0;

/** Waits until the screen matches, returning the screen. */
function until(what: string, re: RegExp, ms = 60_000): Promise<string> {
  return waitFor(what, ms, () => {
    const s = screen();
    return re.test(s) ? s : undefined;
  }).catch((e) => {
    throw new Error(`${(e as Error).message}\n--- screen ---\n${sessionAlive() ? screen() : "(session ended)"}`);
  });
}

beforeAll(async () => {
  env = await jupyterEnv();
  const vars = ["JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_PLATFORM_DIRS", "IPYTHONDIR"]
    .map((k) => `${k}=${env.env[k]}`);
  tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "50", "-c", env.dir,
    "env", ...vars, "python3", "-m", "jupyter_console", "--kernel", "tspool",
    // The kernel answers is_complete (which decides whether Enter runs the cell) in milliseconds once
    // warm, but the console's default wait of 1 s is tight for the first one on a loaded 2-core machine.
    "--ZMQTerminalInteractiveShell.kernel_is_complete_timeout=30");
});

afterAll(() => {
  spawnSync("tmux", ["-L", SOCKET, "kill-server"]);
  // If the test failed before the console could shut its kernel down, stop that kernel (only ours:
  // its connection file lives in this test's directory).
  if (env) for (const pid of processesMentioning(env.dir)) process.kill(pid, "SIGTERM");
});

describe("jupyter console", () => {
  it("runs typed cells, a multi-line %%pool map cell, completes names and exits cleanly", { timeout: 180_000 }, async () => {
    await until("the first prompt", /In \[1\]:/, 90_000);

    type("const greeting: string = 'hello';");
    press("Enter");
    await until("the second prompt", /In \[2\]:/);
    type("greeting.toUpperCase()");
    press("Enter");
    await until("the result", /Out\[2\]: 'HELLO'/);

    type("%pool start 2");
    press("Enter");
    await until("the pool to start", /In \[4\]:/);

    // A cell magic spans lines: the kernel's is_complete says the header alone is incomplete, so Enter
    // continues the cell; Enter after the body (complete) runs it.
    type("%%pool map [1, 2, 3, 4]");
    press("Enter");
    await until("the continuation prompt", /In \[4\]: %%pool map \[1, 2, 3, 4\]\s*\n\s*\.\.\.:/, 30_000);
    type("(n: number) => { console.log(`got ${n}`); return n * greeting.length; }");
    press("Enter");
    const afterMap = await until("the map's results", /Out\[4\]:[\s\S]*\[\s*5,\s*10,\s*15,\s*20\s*\]/);
    // The console prints the map's display as it first appears (it does not apply update_display_data);
    // the final state reaches it as a fresh display: every worker-labelled line and the summary.
    const mapOutput = afterMap.slice(afterMap.lastIndexOf("In [4]:"));
    expect(mapOutput).toMatch(/%%pool map: \d+\/4 items/);
    for (const n of [1, 2, 3, 4]) expect(mapOutput).toMatch(new RegExp(`^\\[worker [01]\\] got ${n}$`, "m"));
    expect(mapOutput).toMatch(/%%pool map done: 4\/4 items in .* on 2 workers/);
    expect(mapOutput).toMatch(/summed task time .* = speedup [\d.]+x/);
    expect(mapOutput.indexOf("%%pool map done")).toBeLessThan(mapOutput.indexOf("Out[4]:"));
    await until("the next prompt", /In \[5\]:/);

    // Tab completes a name from an earlier cell.
    type("greet");
    press("Tab");
    await until("the completion", /In \[5\]: greeting/, 30_000);
    press("C-u");

    type("%pool status");
    press("Enter");
    const status = await until("the pool status", /In \[6\]:/);
    expect(status.slice(status.indexOf("In [5]: %pool status"))).toMatch(/worker 0[\s\S]*worker 1/);

    // Ctrl-D asks for confirmation, then the console shuts the kernel down and exits.
    press("C-d");
    await until("the exit question", /Do you really want to exit/, 30_000);
    type("y");
    press("Enter");
    await waitFor("the console to exit", 60_000, () => (sessionAlive() ? undefined : true)).catch((e) => {
      throw new Error(`${(e as Error).message}\n--- screen ---\n${sessionAlive() ? screen() : "(session ended)"}`);
    });
    // The kernel it started (connection file under this test's directory) is gone too.
    await waitFor("the kernel to exit", 30_000, () => (processesMentioning(env.dir).length === 0 ? true : undefined));
  });
});
