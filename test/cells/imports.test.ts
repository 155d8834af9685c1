/**
 * Imports in cells through the real kernel: node builtins, a CommonJS package, an ESM-only
 * package (no "require" export), the notebook's node_modules before the kernel's own install,
 * notebook-local modules, imports used only by a later cell, and `import * as tslab`.
 */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
let notebookDir: string;

function pkg(name: string, files: Record<string, string>): void {
  const dir = join(notebookDir, "node_modules", name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
}

beforeAll(async () => {
  notebookDir = mkdtempSync(join(tmpdir(), "tspool-imports-"));
  pkg("cjs-greeter", {
    "package.json": JSON.stringify({ name: "cjs-greeter", version: "1.0.0", main: "index.js", types: "index.d.ts" }),
    "index.js": 'exports.greet = (n) => "hello " + n; exports.shout = (n) => exports.greet(n).toUpperCase();',
    "index.d.ts": "export declare function greet(name: string): string;\nexport declare function shout(name: string): string;\n",
  });
  pkg("untyped-cjs", {
    "package.json": JSON.stringify({ name: "untyped-cjs", version: "1.0.0", main: "main.js" }),
    "main.js": "module.exports = function triple(x) { return 3 * x; };",
  });
  pkg("esm-only", {
    "package.json": JSON.stringify({
      name: "esm-only",
      version: "2.0.0",
      type: "module",
      exports: { ".": { types: "./index.d.ts", import: "./index.js" }, "./extra": { import: "./extra.js", types: "./extra.d.ts" } },
    }),
    "index.js": "export const kind = 'esm'; export default function square(x) { return x * x; }",
    "index.d.ts": "export declare const kind: string;\nexport default function square(x: number): number;\n",
    "extra.js": "export const extra = 'subpath';",
    "extra.d.ts": "export declare const extra: string;\n",
  });
  // Shadows the kernel's own `semver`: the notebook's copy must win.
  pkg("semver", {
    "package.json": JSON.stringify({ name: "semver", version: "0.0.1-local", main: "index.js" }),
    "index.js": "exports.where = 'notebook';",
  });
  writeFileSync(join(notebookDir, "helper.mjs"), "export const local = (s) => `local:${s}`;\n");
  mkdirSync(join(notebookDir, "lib"));
  writeFileSync(join(notebookDir, "lib", "math.ts"), "export const twice = (n: number): number => n * 2;\n");
  writeFileSync(
    join(notebookDir, "geometry.ts"),
    'import { twice } from "./lib/math.js";\nexport interface Rect { w: number; h: number }\nexport function perimeter(r: Rect): number { return twice(r.w + r.h); }\n',
  );
  writeFileSync(join(notebookDir, "table.json"), JSON.stringify({ rows: [1, 2, 3] }));
  k = await startKernel({ cwd: notebookDir });
});
afterAll(async () => {
  await k?.stop();
});

async function value(code: string): Promise<string> {
  const r = await k.client.execute(code);
  expect(r.error, JSON.stringify(r.error)).toBeUndefined();
  return r.result?.data["text/plain"];
}

describe("imports", () => {
  it("imports node builtins, default, namespace and named", async () => {
    expect(await value('import os from "node:os";\nimport * as path from "path";\nimport { createHash } from "node:crypto";\n[typeof os.cpus, path.join("a", "b"), createHash("sha1").update("x").digest("hex").length]')).toBe(
      "[ 'function', 'a/b', 40 ]",
    );
  });

  it("imports a CommonJS package by named and namespace imports, typed by its declarations", async () => {
    expect(await value('import { greet } from "cjs-greeter";\ngreet("ada")')).toBe("'hello ada'");
    expect(await value('import * as g from "cjs-greeter";\ng.shout("bob")')).toBe("'HELLO BOB'");
    const r = await k.client.execute("greet(42)");
    expect(r.error!.ename).toBe("TSError");
  });

  it("imports an untyped CommonJS package as any", async () => {
    expect(await value('import triple from "untyped-cjs";\ntriple(5)')).toBe("15");
  });

  it("imports an ESM-only package and its subpath exports", async () => {
    expect(await value('import square, { kind } from "esm-only";\n`${kind} ${square(7)}`')).toBe("'esm 49'");
    expect(await value('import { extra } from "esm-only/extra";\nextra')).toBe("'subpath'");
  });

  it("falls back to the kernel's own install (an ESM package the notebook does not have)", async () => {
    expect(await value('import datasets from "vega-datasets";\ntypeof datasets["cars.json"]')).toBe("'function'");
  });

  it("prefers the notebook's node_modules over the kernel's", async () => {
    expect(await value('import * as semver from "semver";\n(semver as any).where')).toBe("'notebook'");
  });

  it("imports modules next to the notebook", async () => {
    expect(await value('import { local } from "./helper.mjs";\nlocal("x")')).toBe("'local:x'");
  });

  it("imports the notebook's own TypeScript files, type-checked, with or without extension", async () => {
    expect(await value('import { perimeter, type Rect } from "./geometry";\nconst r: Rect = { w: 2, h: 3 };\nperimeter(r)')).toBe("10");
    expect(await value('import { twice } from "./lib/math.ts";\ntwice(21)')).toBe("42");
    const bad = await k.client.execute("perimeter({ w: 1 })");
    expect(bad.error!.evalue).toContain("Property 'h' is missing");
  });

  it("picks up an edit of the notebook's own module when its import cell runs again", async () => {
    const file = join(notebookDir, "edited.ts");
    writeFileSync(file, "export const version = (): number => 1;\n");
    expect(await value('import { version } from "./edited";\nversion()')).toBe("1");
    writeFileSync(file, 'export const version = (): string => "two";\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    expect(await value('import { version } from "./edited";\nversion()')).toBe("'two'");
    expect(await value("const v: string = version();\nv.length")).toBe("3");
  });

  it("imports JSON files", async () => {
    expect(await value('import table from "./table.json";\ntable.rows.length')).toBe("3");
  });

  it("runs an import whose names only a later cell uses", async () => {
    expect((await k.client.execute('import { readFileSync } from "node:fs";')).error).toBeUndefined();
    expect(await value("typeof readFileSync")).toBe("'function'");
  });

  it("resolves import() written in a cell the same way (notebook first, then the kernel's install)", async () => {
    expect(await value('const dyn = await import("esm-only");\ndyn.kind')).toBe("'esm'");
    expect(await value('const vd = await import("vega-datasets");\ntypeof vd.default')).toBe("'object'");
  });

  it("gives cells require, __filename and __dirname as for a file of the notebook's directory", async () => {
    expect(await value('require("cjs-greeter").greet("r")')).toBe("'hello r'");
    expect(await value('typeof require("worker-farm")')).toBe("'function'");
    expect(await value("__dirname === process.cwd()")).toBe("true");
    const r = await k.client.execute('require("not-installed-anywhere")');
    expect(r.error!.evalue).toContain("Cannot find module 'not-installed-anywhere'");
    expect(r.error!.evalue).toContain(notebookDir);
  });

  it("says what is missing and how to get it", async () => {
    const r = await k.client.execute('import nothing from "no-such-package-here/sub";');
    expect(r.reply.content.status).toBe("error");
    expect(r.error!.evalue).toContain("Cannot find module 'no-such-package-here/sub'");
    expect(r.error!.evalue).toContain("npm install no-such-package-here");
  });
});

describe("tslab compatibility", () => {
  it("gives tslab.display.* and tslab.newDisplay() backed by tspool's displays, type-checked", async () => {
    const r = await k.client.execute(
      'import * as tslab from "tslab";\ntslab.display.html("<b>hi</b>");\nconst d = tslab.newDisplay();\nd.markdown("one");\nd.markdown("two");',
    );
    expect(r.error).toBeUndefined();
    const [html, first, second] = r.displays;
    expect(html.header.msg_type).toBe("display_data");
    expect(html.content.data["text/html"]).toBe("<b>hi</b>");
    expect(first.header.msg_type).toBe("display_data");
    expect(second.header.msg_type).toBe("update_display_data");
    expect(second.content.data["text/markdown"]).toBe("two");
    expect(second.content.transient.display_id).toBe(first.content.transient.display_id);
    const bad = await k.client.execute('tslab.display.html(42)');
    expect(bad.error!.ename).toBe("TSError");
  });
});
