/**
 * tspool in JupyterLab, driven like a person would in headless Chromium: open a notebook, run a
 * `%%pool map` cell from the UI, watch the per-worker panels and the progress display render, see
 * a Vega-Lite chart of the results render, and get a completion popup for names defined in an
 * earlier cell. A screenshot is kept in
 * test-artifacts/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, freePort, GiveUp, jupyterEnv, processesMentioning, waitFor } from "../helpers/jupyter-env.js";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = `tspool-${Math.random().toString(36).slice(2)}`;

const CELLS = [
  "const helperOffset = 100;\nfunction helperSquare(n: number): number {\n  return n * n + helperOffset;\n}",
  "%pool start 2",
  [
    "%%pool map Array.from({ length: 16 }, (_, i) => i + 1)",
    "(n: number) => {",
    "  const until = Date.now() + 400;",
    "  while (Date.now() < until) {}",
    "  console.log(`finished item ${n}`);",
    "  return helperSquare(n);",
    "}",
  ].join("\n"),
  [
    "display.vegaLite({",
    "  data: { values: (_ as number[]).map((square, i) => ({ item: i + 1, square })) },",
    "  mark: \"bar\",",
    "  encoding: { x: { field: \"item\", type: \"ordinal\" }, y: { field: \"square\", type: \"quantitative\" } },",
    "});",
  ].join("\n"),
  "",
];

let lab: ChildProcess | undefined;
let labLog = "";
let context: BrowserContext | undefined;
let page: Page;
let base = "";
let envDir = "";

beforeAll(async () => {
  const { dir, env } = await jupyterEnv();
  envDir = dir;
  const root = join(dir, "notebooks");
  mkdirSync(root);
  writeFileSync(join(root, "pool.ipynb"), JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tspool", display_name: "TypeScript (tspool)", language: "typescript" } },
    cells: CELLS.map((source, i) => ({ cell_type: "code", id: `cell${i}`, metadata: {}, source, outputs: [], execution_count: null })),
  }));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  lab = spawn("python3", [
    "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0",
    `--IdentityProvider.token=${TOKEN}`, `--ServerApp.root_dir=${root}`, "--allow-root",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
  ], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  lab.stdout!.on("data", (d) => (labLog += d));
  lab.stderr!.on("data", (d) => (labLog += d));
  await waitFor("JupyterLab to answer", 90_000, async () => {
    if (lab!.exitCode !== null) throw new GiveUp(`JupyterLab exited:\n${labLog}`);
    const r = await fetch(`${base}/api/status?token=${TOKEN}`).catch(() => null);
    return r?.ok ? true : undefined;
  });
  context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  if (lab && lab.exitCode === null) {
    // Stopping the server shuts its kernels down (and so their workers).
    const exited = new Promise((r) => lab!.once("exit", r));
    lab.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (lab.exitCode === null) lab.kill("SIGKILL");
  }
  // A kernel the server did not get to shut down (its connection file is under our directory) goes too.
  if (envDir) for (const pid of processesMentioning(envDir)) process.kill(pid, "SIGTERM");
});

/** The editor of the n-th cell of the open notebook. */
const editor = (n: number) => page.locator(".jp-Notebook .jp-Cell").nth(n).locator(".cm-content");

describe("JupyterLab with the tspool kernel", () => {
  it("runs a %%pool map cell with live per-worker panels, completes earlier names, and is screenshotted", { timeout: 240_000 }, async () => {
    await page.goto(`${base}/lab/tree/pool.ipynb?token=${TOKEN}`);
    await page.locator(".jp-Notebook .jp-Cell").nth(4).waitFor({ timeout: 90_000 });
    // The kernel named in the notebook's metadata starts by itself and reports idle in the status bar.
    await page.locator("#jp-main-statusbar").getByText(/TypeScript \(tspool\)/).waitFor({ timeout: 90_000 });
    await waitFor("the kernel to be idle", 90_000, async () =>
      /Idle/.test(await page.locator("#jp-main-statusbar").innerText()) ? true : undefined);

    await editor(0).click();
    await page.keyboard.press("Shift+Enter"); // the helper cell
    await page.keyboard.press("Shift+Enter"); // %pool start 2
    await page.keyboard.press("Shift+Enter"); // %%pool map
    await page.keyboard.press("Shift+Enter"); // a Vega-Lite chart of the results

    const mapCell = page.locator(".jp-Notebook .jp-Cell").nth(2);
    // While it runs (16 items of 0.4 s on 2 workers): the live progress headline (done/total, rate,
    // elapsed) with its bar, and a panel per worker.
    const progress = mapCell.locator(".tspool-map");
    await progress.waitFor({ timeout: 90_000 });
    await expect.poll(async () => progress.innerText(), { timeout: 90_000 }).toMatch(/\d+\/16 items · .*elapsed/);
    for (const id of [0, 1]) {
      const panel = mapCell.locator(`.tspool-worker[data-worker="${id}"]`);
      await panel.waitFor({ timeout: 90_000 });
      await expect.poll(async () => panel.innerText(), { timeout: 90_000 }).toMatch(new RegExp(`worker ${id}[\\s\\S]*finished item`));
    }
    // When it ends: the summary, and then the results as the cell's result. The summary is a display
    // update sent before the execute_result, so the browser may show it a moment earlier: wait for both.
    await expect.poll(async () => mapCell.locator(".jp-OutputArea").innerText(), { timeout: 120_000 }).toMatch(/done: 16\/16 items/);
    await expect.poll(async () => mapCell.locator(".jp-OutputArea").innerText(), { timeout: 60_000 }).toMatch(/101,\s*104,\s*109/);
    expect(await mapCell.locator(".jp-OutputArea").innerText()).toContain("356"); // 16 * 16 + 100

    // The chart renders with JupyterLab's own Vega-Lite renderer.
    const chart = page.locator(".jp-Notebook .jp-Cell").nth(3).locator(".vega-embed");
    await chart.waitFor({ timeout: 90_000 });
    await chart.locator("svg, canvas").first().waitFor({ timeout: 60_000 });

    // Completion in a new cell for names from the first cell: Tab opens the completer.
    await editor(4).click();
    await page.keyboard.type("helper");
    await page.keyboard.press("Tab");
    const completer = page.locator(".jp-Completer");
    await completer.waitFor({ state: "visible", timeout: 60_000 });
    await expect.poll(async () => completer.innerText(), { timeout: 30_000 }).toMatch(/helperSquare[\s\S]*helperOffset|helperOffset[\s\S]*helperSquare/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "jupyterlab-pool-map.png") });
    await mapCell.screenshot({ path: join(ARTIFACTS, "jupyterlab-pool-map-cell.png") });
    await page.keyboard.press("Escape");
  });
});
