/**
 * `.ci/run`, the CI entry point, on what a fresh Debian machine has: a Node that may be too old,
 * a system Python that pip must not install into (PEP 668), or a Python without pip. The steps
 * are run by sourcing the script in bash, with real Pythons and real virtual environments; the
 * package installed is a small one (iniconfig) instead of the Jupyter stack.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runProcess } from "../helpers/run-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const SCRIPT = join(ROOT, ".ci", "run");
/** Debian 12's own Python, which carries the PEP 668 marker. */
const DEBIAN_PYTHON = "/usr/bin/python3";
const DEBIAN_MARKER = "/usr/lib/python3.11/EXTERNALLY-MANAGED";

interface Result { code: number | null; out: string }

async function bash(script: string, env: NodeJS.ProcessEnv): Promise<Result> {
  const r = await runProcess("bash", ["-c", script], 170_000, { cwd: ROOT, env });
  return { code: r.code, out: r.output };
}

/** A folder of executables put first on PATH: `name` runs `body` (a sh script) or links to `target`. */
function binDir(entries: Record<string, { body?: string; target?: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), "tspool-ci-bin-"));
  for (const [name, e] of Object.entries(entries)) {
    if (e.target) symlinkSync(e.target, join(dir, name));
    else {
      writeFileSync(join(dir, name), `#!/bin/sh\n${e.body}\n`);
      chmodSync(join(dir, name), 0o755);
    }
  }
  return dir;
}

describe(".ci/run", () => {
  it("stops at once, saying what to install, when Node is older than 20.12", async () => {
    // Debian 12's own nodejs is 18.19; npm stands in as a tripwire: the script must not get that far.
    for (const old of ["v18.19.0", "v20.11.1"]) {
      const bin = binDir({ node: { body: `echo ${old}` }, npm: { body: "echo 'npm was reached' >&2; exit 3" } });
      const r = await bash(`bash ${SCRIPT}`, { PATH: `${bin}:${process.env.PATH}` });
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain(`Node.js ${old.slice(1)} is too old: tspool needs 20.12 or later`);
      expect(r.out).not.toContain("npm was reached");
      expect(r.out).not.toContain("== "); // no step started
    }
    const recent = binDir({ node: { body: "echo v20.12.0" } });
    const ok = await bash(`source ${SCRIPT}; require_node; echo node accepted`, { PATH: `${recent}:${process.env.PATH}` });
    expect(ok.out).toContain("node accepted");
  });

  it("installs into a virtual environment, first on PATH, when the system Python is externally managed", { timeout: 180_000 }, async () => {
    expect(existsSync(DEBIAN_MARKER), "this test needs Debian 12's python3, as .ci/run targets it").toBe(true);
    const bin = binDir({ python3: { target: DEBIAN_PYTHON } });
    const venv = join(mkdtempSync(join(tmpdir(), "tspool-ci-")), "venv");
    const r = await bash(
      `source ${SCRIPT}; install_python_packages iniconfig; echo "python3 is $(command -v python3)"; python3 -c "import iniconfig; print('imported')"`,
      { PATH: `${bin}:${process.env.PATH}`, TSPOOL_CI_VENV: venv },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("is managed by the system (PEP 668): installing into a virtual environment");
    expect(r.out).toContain(`python3 is ${venv}/bin/python3`);
    expect(r.out).toContain("imported");
    // Run again: the environment is reused and nothing is installed.
    const again = await bash(`source ${SCRIPT}; install_python_packages iniconfig; command -v python3`, {
      PATH: `${bin}:${process.env.PATH}`,
      TSPOOL_CI_VENV: venv,
    });
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain("python3 -m venv");
  });

  it("installs into a virtual environment when python3 has no pip", { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tspool-ci-"));
    const pipless = join(dir, "pipless");
    const made = await bash(`python3 -m venv --without-pip ${pipless}`, {});
    expect(made.code, made.out).toBe(0);
    const venv = join(dir, "venv");
    const r = await bash(
      `source ${SCRIPT}; install_python_packages iniconfig; echo "python3 is $(command -v python3)"; python3 -c "import iniconfig; print('imported')"`,
      { PATH: `${pipless}/bin:${process.env.PATH}`, TSPOOL_CI_VENV: venv },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("has no pip: installing into a virtual environment");
    expect(r.out).toContain(`python3 is ${venv}/bin/python3`);
    expect(r.out).toContain("imported");
  });

  it("leaves a Python whose pip may install alone, and reports a package pip cannot find", { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tspool-ci-"));
    const own = join(dir, "own");
    mkdirSync(own);
    const made = await bash(`python3 -m venv ${own}`, {});
    expect(made.code, made.out).toBe(0);
    const r = await bash(
      `source ${SCRIPT}; install_python_packages iniconfig; echo "python3 is $(command -v python3)"`,
      { PATH: `${own}/bin:${process.env.PATH}`, TSPOOL_CI_VENV: join(dir, "unused") },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`python3 is ${own}/bin/python3`);
    expect(existsSync(join(dir, "unused"))).toBe(false);
    const missing = await bash(`source ${SCRIPT}; install_python_packages no_such_package_for_tspool_ci`, {
      PATH: `${own}/bin:${process.env.PATH}`,
      TSPOOL_CI_VENV: join(dir, "unused"),
      PIP_RETRIES: "0",
      PIP_TIMEOUT: "5",
    });
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("pip could not install no_such_package_for_tspool_ci (its errors are above)");
  });
});
