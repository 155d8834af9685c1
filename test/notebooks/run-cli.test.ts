/**
 * `tspool run` end to end: the real CLI starts the real kernel, runs small notebooks written
 * here, prints outputs, writes the executed notebook and sets its exit status.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { CLI, ROOT, cellText, codeCells, readExecuted, runCli, tempDir, writeNotebook } from "./helpers.js";
import { alive } from "../helpers/processes.js";

/**
 * `tspool run NB` as a child: its output so far, its exit code, and the first match of `awaited`
 * in its stdout once printed.
 */
function runAwaiting(nb: string, awaited: RegExp) {
  const child = spawn(process.execPath, [CLI, "run", nb], { stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  child.stderr.on("data", (d) => (out.stderr += d));
  const match = new Promise<RegExpExecArray>((resolve) => {
    child.stdout.on("data", (d) => {
      out.stdout += d;
      const m = awaited.exec(out.stdout);
      if (m) resolve(m);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, out, exited, match };
}

/** runAwaiting for a notebook whose first cell prints `kernel pid N` (the kernel's pid, the executor's parent). */
function runPrintingKernelPid(nb: string) {
  const run = runAwaiting(nb, /kernel pid (\d+)/);
  return { ...run, kernelPid: run.match.then((m) => Number(m[1])) };
}

describe("tspool run", () => {
  it("runs every code cell in order, prints outputs and writes the executed notebook", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "basic.ipynb", [
      "#md # A title",
      "const base: number = 20;\nconsole.log(`base is ${base}`);",
      "",
      "function twice(n: number): number { return n * 2; }\ntwice(base) + 2",
      "display.text('first version', { id: 'status' });",
      "display.text('second version', { id: 'status', update: true });\n'updated'",
    ]);
    const out = join(dir, "done.ipynb");
    const r = await runCli(["run", nb, "--out", out]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("base is 20");
    expect(r.stdout).toMatch(/Out\[\d+\]: 42/);

    const done = readExecuted(out);
    expect(done.nbformat).toBe(4);
    expect(done.metadata.language_info?.name).toBe("typescript");
    const [first, empty, second, shown, updater] = codeCells(done);
    expect(first.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "base is 20\n" }]);
    expect(empty.outputs).toEqual([]);
    expect(empty.execution_count).toBeNull();
    const result = second.outputs!.find((o) => o.output_type === "execute_result");
    expect(result.data["text/plain"]).toBe("42");
    expect(result.execution_count).toBe(second.execution_count);
    expect(second.execution_count).toBeGreaterThan(first.execution_count!);
    // The update in the last cell replaced the display of the cell before, and added nothing of its own.
    expect(shown.outputs!.map((o) => o.output_type)).toEqual(["display_data"]);
    expect(cellText(shown)).toBe("second version");
    expect(cellText(updater)).toContain("updated");
    expect(cellText(updater)).not.toContain("second version");
  });

  it("shows a %%pool map as worker-labelled lines plus one rewriting progress line on a terminal, plain lines otherwise", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "map.ipynb", [
      "%pool start 2",
      "%%pool map [1, 2, 3, 4, 5, 6]\n(n: number) => {\n  const until = Date.now() + 200;\n  while (Date.now() < until) {}\n  console.log(`item ${n}`);\n  return n * 3;\n}",
    ]);
    // Not a terminal (a pipe): no escape sequences, each worker line once, then the summary, then the result.
    const piped = await runCli(["run", nb, "--out", join(dir, "piped.ipynb")]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).not.toContain("\x1b[");
    for (let n = 1; n <= 6; n++) expect(piped.stdout.match(new RegExp(`^\\[worker [01]\\] item ${n}$`, "gm"))?.length).toBe(1);
    const summaryAt = piped.stdout.search(/done: 6\/6 items/);
    expect(summaryAt).toBeGreaterThan(piped.stdout.search(/item 6/));
    expect(piped.stdout.indexOf("Out[")).toBeGreaterThan(summaryAt);
    expect(piped.stdout).toMatch(/Out\[\d+\]: \[ 3, 6, 9, 12, 15, 18 \]/);

    // A terminal (a pseudo-terminal made by `script`): the progress line is redrawn in place.
    const cmd = [process.execPath, CLI, "run", nb, "--out", join(dir, "tty.ipynb")].map((a) => `'${a}'`).join(" ");
    const tty = await new Promise<string>((resolve, reject) => {
      const p = spawn("script", ["-qec", cmd, "/dev/null"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.on("error", reject);
      p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
    });
    expect(tty).toMatch(/\r\x1b\[2K%%pool map: \d\/6 items/);
    for (let n = 1; n <= 6; n++) expect(tty).toMatch(new RegExp(`\\[worker [01]\\] item ${n}\\r?\\n`));
  });

  it("prints each worker line once off a terminal, also those the live display had no room for", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    // 2 workers, 2 items each, 2,500 lines per item: more than the display keeps per worker, so
    // the kernel sends the oldest again as stream output after the display showed them. The pauses
    // let display updates go out in between.
    const nb = writeNotebook(dir, "chatty.ipynb", [
      "%pool start 2",
      "%%pool map [0, 1, 2, 3] --chunksize 1\n(n: number) => {\n  for (let i = 0; i < 2500; i++) {\n    console.log(`item ${n} line ${i}`);\n" +
        "    if (i % 500 === 0) { const until = Date.now() + 300; while (Date.now() < until) {} }\n  }\n  return n;\n}",
    ]);
    const r = await runCli(["run", nb, "--out", join(dir, "chatty.executed.ipynb")]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => /^\[worker [01]\] item \d line \d+$/.test(l));
    expect(lines.length).toBe(4 * 2500);
    for (let n = 0; n < 4; n++) {
      const numbers = lines.filter((l) => l.includes(`] item ${n} line `)).map((l) => Number(l.split(" line ")[1]));
      expect(numbers, `item ${n}`).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    }
  });

  it("prints a display that has an id once off a terminal, and its updates in order", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "displays.ipynb", [
      "display.text('shown once', { id: 'a' });\n1",
      "display.text('first line\\nsecond line', { id: 'b' });",
      "display.text('version 1', { id: 'c' });\nawait new Promise((r) => setTimeout(r, 1200));\ndisplay.text('version 2', { id: 'c', update: true });",
      "import * as tslab from 'tslab';\nconst d = tslab.newDisplay();\nd.text('from tslab');",
    ]);
    const r = await runCli(["run", nb, "--out", join(dir, "displays.executed.ipynb")]);
    expect(r.code, r.stderr).toBe(0);
    for (const shown of ["shown once", "first line", "second line", "version 1", "version 2", "from tslab"]) {
      expect(r.stdout.split("\n").filter((l) => l === shown), `${shown} in:\n${r.stdout}`).toHaveLength(1);
    }
    expect(r.stdout.indexOf("first line")).toBeLessThan(r.stdout.indexOf("second line"));
    expect(r.stdout.indexOf("version 1")).toBeLessThan(r.stdout.indexOf("version 2"));
    expect(r.stdout.indexOf("shown once")).toBeLessThan(r.stdout.indexOf("Out["));
  });

  it("answers a cell's input() and input.password() from the terminal it runs in", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "ask.ipynb", [
      "const who = await input('Your name: ');\nconst secret = await input.password('Passphrase: ');\nconsole.log(`hello ${who}, ${secret.length} characters`);",
    ]);
    const cmd = [process.execPath, CLI, "run", nb].map((a) => `'${a}'`).join(" ");
    const p = spawn("script", ["-qec", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    const answered: string[] = [];
    p.stdout.on("data", (d) => {
      screen += d;
      // Each prompt starts a line of its own (the cell's header also quotes the prompts); readline
      // moves the cursor with escape sequences around it.
      const plain = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
      if (!answered.includes("name") && /(^|\n)Your name: $/.test(plain)) {
        answered.push("name");
        p.stdin.write("Ada\r");
      }
      if (!answered.includes("pass") && /(^|\n)Passphrase: $/.test(plain)) {
        answered.push("pass");
        p.stdin.write("open sesame\r");
      }
    });
    const code = await new Promise<number | null>((resolve) => p.on("close", resolve));
    expect(code, screen).toBe(0);
    expect(answered).toEqual(["name", "pass"]);
    expect(screen).toContain("hello Ada, 11 characters");
    expect(screen).not.toContain("open sesame"); // the password is not echoed
  });

  it("stops at the first failing cell with a non-zero status and the error's traceback", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "fails.ipynb", [
      "#raises throw new TypeError('an expected failure');",
      "console.log('before');",
      "throw new RangeError('the sky fell');",
      "console.log('never printed');",
    ]);
    const r = await runCli(["run", nb]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("RangeError");
    expect(r.stderr).toContain("the sky fell");
    expect(r.stderr).toContain("an expected failure"); // shown, but a tagged cell does not stop the run
    expect(r.stdout).toContain("before");
    expect(r.stderr).toMatch(/stopped at cell 3 of 4/);
    expect(r.stdout).not.toContain("never printed");
    // Default output path: beside the notebook.
    const done = readExecuted(join(dir, "fails.executed.ipynb"));
    const [expected, , failing, after] = codeCells(done);
    expect(expected.outputs!.some((o) => o.output_type === "error" && o.ename === "TypeError")).toBe(true);
    expect(failing.outputs!.some((o) => o.output_type === "error" && o.ename === "RangeError")).toBe(true);
    expect(after.outputs).toEqual([]);
  });

  it("keeps going with --allow-errors and exits 0; a type error is reported with its position", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "allowed.ipynb", [
      "const n: number = 'not a number';",
      "console.log('still running');",
    ]);
    const r = await runCli(["run", nb, "--allow-errors"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("still running");
    const done = readExecuted(join(dir, "allowed.executed.ipynb"));
    const typeError = codeCells(done)[0].outputs!.find((o) => o.output_type === "error");
    expect(`${typeError.evalue}\n${typeError.traceback.join("\n")}`).toMatch(/1:\d+/);
  });

  it("interrupts a cell that runs past --timeout, reports it and shuts the kernel down", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "slow.ipynb", ["let spins = 0;\nwhile (true) { spins++; }", "console.log('not reached');"]);
    const r = await runCli(["run", nb, "--timeout", "2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("timed out");
    const done = readExecuted(join(dir, "slow.executed.ipynb"));
    const errors = codeCells(done)[0].outputs!.filter((o) => o.output_type === "error");
    expect(errors.map((e) => e.ename)).toContain("CellTimeoutError");
  });

  it("turns Ctrl-C (SIGINT) into a kernel interrupt of the running cell, then stops", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "spin.ipynb", ["let k = 0;\nwhile (true) { k++; }", "console.log('not reached');"]);
    const child = spawn(process.execPath, [CLI, "run", nb], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const sent = new Promise<void>((resolve) => {
      child.stdout.on("data", (d) => {
        stdout += d;
        // The cell has been sent once its header is printed; give the kernel a moment to start running it.
        if (stdout.includes("cell 1/2")) setTimeout(() => resolve(), 1500);
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      await sent;
      child.kill("SIGINT");
      expect(await exited).toBe(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGTERM"); // the run shuts its kernel down
    }
    expect(stderr).toContain("interrupting the running cell");
    expect(stderr).toMatch(/Interrupt/);
    expect(stderr).toContain("stopped at cell 1 of 2 (the cell was interrupted with Ctrl-C)");
    expect(stdout).not.toContain("not reached");
  });

  it("reports a kernel that dies mid-cell and fails the run, even with --allow-errors", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "dies.ipynb", [
      "process.kill(process.ppid, 'SIGKILL'); // the executor's parent is the kernel process\nawait new Promise((r) => setTimeout(r, 30_000));",
      "console.log('not reached');",
    ]);
    const r = await runCli(["run", nb, "--allow-errors"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("The kernel was killed by SIGKILL while running this cell.");
    expect(r.stderr).toContain("stopped at cell 1 of 2 (the kernel died)");
    const done = readExecuted(join(dir, "dies.executed.ipynb"));
    expect(codeCells(done)[0].outputs!.map((o) => o.ename)).toContain("DeadKernelError");
    expect(codeCells(done)[1].outputs).toEqual([]);
  });

  it("shuts the kernel down when it is itself stopped with SIGTERM", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "stopped.ipynb", ["console.log(`kernel pid ${process.ppid}`);\nawait new Promise((r) => setTimeout(r, 60_000));"]);
    const { child, out, exited, kernelPid } = runPrintingKernelPid(nb);
    const pid = await kernelPid;
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(out.stderr).toContain("stopped at cell 1 of 1 (stopped by SIGTERM)");
    expect(alive(pid)).toBe(false);
  });

  it("tells the kernel which process it belongs to (JPY_PARENT_PID, as Jupyter's clients do)", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "parent.ipynb", ["console.log(`JPY_PARENT_PID=${process.env.JPY_PARENT_PID}`);"]);
    const child = spawn(process.execPath, [CLI, "run", nb], { env: { ...process.env, JPY_PARENT_PID: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stdout).toContain(`JPY_PARENT_PID=${child.pid}`);
  });

  it("shuts the kernel down and exits 141 when the reader of its output goes away (tspool run ... | head)", async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "piped.ipynb", [
      "console.log(`kernel pid ${process.ppid}`);",
      "await new Promise((r) => setTimeout(r, 1000));",
      "console.log('one more line');",
    ]);
    const { child, out, exited, kernelPid } = runPrintingKernelPid(nb);
    const pid = await kernelPid;
    try {
      child.stdout.destroy(); // like `head` exiting after the lines it wanted
      expect(await exited, out.stderr).toBe(141);
      expect(out.stderr).toMatch(/stopped at cell [23] of 3 \(the reader of its output went away\)/);
      expect(out.stderr).not.toContain("EPIPE"); // no crash's stack trace
      expect(alive(pid)).toBe(false);
    } finally {
      if (alive(pid)) process.kill(pid, "SIGTERM"); // a runner that crashed left its kernel behind
    }
  });

  it("ends a %%pool map stopped by SIGTERM with one line of its last state, not the stale live panel", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const nb = writeNotebook(dir, "long-map.ipynb", [
      "%pool start 2",
      "%%pool map Array.from({ length: 60 }, (_, i) => i)\n(n: number) => {\n  const until = Date.now() + 200;\n  while (Date.now() < until) {}\n  console.log(`item ${n}`);\n  return n;\n}",
    ]);
    const { child, out, exited, match: mapRunning } = runAwaiting(nb, /^\[worker [01]\] item \d+$/m);
    try {
      await mapRunning;
      child.kill("SIGTERM");
      expect(await exited).toBe(143);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    const afterStop = out.stdout.slice(out.stdout.search(/^\[worker [01]\] item/m));
    expect(afterStop).toMatch(/^%%pool map: \d+\/60 items.* \(last update before the run was stopped\)$/m);
    expect(afterStop).not.toMatch(/\[[█░]+\] \d+%/); // no progress bar
    expect(afterStop).not.toMatch(/^worker \d \(pid \d+\): .*running$/m); // no stale "running" workers
  });

  it("records the tspool kernelspec in a notebook written for another kernel", async () => {
    const dir = tempDir();
    const path = writeNotebook(dir, "python.ipynb", ["1 + 1"]);
    const nb = JSON.parse(readFileSync(path, "utf8"));
    nb.metadata.kernelspec = { name: "python3", display_name: "Python 3", language: "python" };
    writeFileSync(path, JSON.stringify(nb));
    const r = await runCli(["run", path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('was written for the "python3" kernel; running it with tspool (TypeScript) anyway');
    const done = readExecuted(join(dir, "python.executed.ipynb"));
    expect(done.metadata.kernelspec).toEqual({ name: "tspool", display_name: "TypeScript (tspool)", language: "typescript" });
    expect(done.metadata.language_info.name).toBe("typescript");
  });

  it("explains bad arguments and unreadable notebooks without starting a kernel", async () => {
    const dir = tempDir();
    const missing = await runCli(["run", join(dir, "nope.ipynb")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No such notebook");

    const noArg = await runCli(["run"]);
    expect(noArg.code).toBe(2);
    expect(noArg.stderr).toMatch(/Missing the notebook/);
    expect(noArg.stderr).toContain("Usage: tspool run");
    const suggested = /e\.g\. `tspool run ([^`]+)`/.exec(noArg.stderr)?.[1];
    expect(suggested && existsSync(join(ROOT, suggested)), `suggests ${suggested}`).toBe(true);

    const badTimeout = await runCli(["run", "x.ipynb", "--timeout", "soon"]);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain("--timeout takes a number of seconds");

    const typo = await runCli(["run", "x.ipynb", "--allow-error"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("Did you mean --allow-errors?");

    const fine = writeNotebook(dir, "fine.ipynb", ["console.log('the cell ran')"]);
    const nowhere = await runCli(["run", fine, "--out", join(dir, "missing-dir", "out.ipynb")]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain("missing-dir does not exist");

    // An existing directory as --out: refused before the notebook runs, not after.
    const folder = join(dir, "results");
    mkdirSync(folder);
    const intoFolder = await runCli(["run", fine, "--out", folder]);
    expect(intoFolder.code).toBe(2);
    expect(intoFolder.stderr).toContain(`cannot write ${folder}: it is a directory (give the executed notebook's file name, e.g. --out ${join(folder, "executed.ipynb")})`);
    expect(intoFolder.stdout).not.toContain("the cell ran");

    const notJson = join(dir, "bad.ipynb");
    writeFileSync(notJson, "{ not json");
    const bad = await runCli(["run", notJson]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not valid JSON");
    expect(existsSync(join(dir, "bad.executed.ipynb"))).toBe(false);
  });
});
