"""Deno's Jupyter kernel as a benchmark peer: fetched on demand, never a dependency of tspool.

Deno is published on npm (`deno`, with a binary per platform in `@deno/<platform>`), so the bench installs it
with npm into a cache directory outside the repository (by default `$XDG_CACHE_HOME/tspool-bench/deno`, i.e.
`~/.cache/tspool-bench/deno`) the first time it is needed, and reuses it afterwards. If that fails (no
registry, no npm, an unsupported platform), `find_or_fetch_deno` says why and returns None, and the bench
measures the other kernels.
"""
import glob
import json
import os
import re
import shutil
import subprocess

DENO_SPEC = "deno@2"


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tspool-bench", "deno")


def _installed_binary(cache_dir):
    """The real executable inside an npm install of `deno` (the platform package's, else the wrapper's copy)."""
    candidates = sorted(glob.glob(os.path.join(cache_dir, "node_modules", "@deno", "*", "deno")))
    candidates += [os.path.join(cache_dir, "node_modules", "deno", "deno"),
                   os.path.join(cache_dir, "node_modules", ".bin", "deno")]
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK) and _version(path):
            return path
    return None


def _version(binary):
    """`deno 2.x.y` from `deno --version`, or None if the binary does not run here."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = out.stdout.splitlines()[0] if out.returncode == 0 and out.stdout else ""
    return first.split(" (")[0] if first.startswith("deno ") else None


def find_or_fetch_deno(cache_dir=None, log=print):
    """Path of a working deno binary and its version, installing `deno@2` from npm into cache_dir if needed.

    Returns (path, version) or (None, reason)."""
    cache_dir = cache_dir or default_cache_dir()
    binary = _installed_binary(cache_dir)
    if binary:
        return binary, _version(binary)
    npm = shutil.which("npm")
    if not npm:
        return None, "npm is not on PATH, so Deno could not be fetched"
    log(f"fetching {DENO_SPEC} from the npm registry into {cache_dir} (once; ~100 MB) ...")
    os.makedirs(cache_dir, exist_ok=True)
    try:
        # --prefix keeps it out of the project's node_modules and package.json; the platform package
        # carries the binary, so the wrapper's postinstall script is not needed.
        done = subprocess.run([npm, "install", "--prefix", cache_dir, "--no-audit", "--no-fund", DENO_SPEC],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return None, f"`npm install {DENO_SPEC}` did not finish within 10 minutes"
    if done.returncode != 0:
        # npm's first two telling lines, e.g. "code ECONNREFUSED; FetchError: request to ... failed"
        errors = [ln[len("npm error"):].strip() for ln in (done.stderr or done.stdout).splitlines()
                  if ln.startswith("npm error")]
        why = "; ".join([e for e in errors if e and not re.match(r"(errno|syscall)\b|at |\w+: '|[{}]", e)][:2])
        return None, (f"`npm install --prefix {cache_dir} {DENO_SPEC}` failed (exit {done.returncode}): {why}. "
                      f"Check that npm can reach its registry, or pass --deno-cache DIR holding an install of deno")
    binary = _installed_binary(cache_dir)
    if not binary:
        return None, f"npm installed {DENO_SPEC} into {cache_dir} but no runnable deno binary was found there"
    return binary, _version(binary)


def write_deno_spec(prefix, binary, name="deno-bench"):
    """The kernelspec `deno jupyter --install` writes (its argv, display name and language; no interrupt_mode,
    so Jupyter interrupts it with SIGINT), placed in the bench's private prefix instead of the user's data dir."""
    spec_dir = os.path.join(prefix, "share", "jupyter", "kernels", name)
    os.makedirs(spec_dir, exist_ok=True)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({
            "argv": [binary, "jupyter", "--kernel", "--conn", "{connection_file}"],
            "display_name": "Deno (bench)",
            "language": "typescript",
        }, f)
    return name
