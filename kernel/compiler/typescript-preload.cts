/**
 * Loads typescript.js (about 9 MB of JavaScript) into the require cache with a V8 code cache kept
 * in the user's cache directory ($TSPOOL_CACHE_DIR, else $XDG_CACHE_HOME/tspool or
 * ~/.cache/tspool), so the executor skips compiling it on every start; `saveTypeScriptCodeCache`
 * (after the type checker's warm-up, when the functions it ran are compiled too) writes the
 * cache when there was none or V8 rejected it. Any failure falls back to a plain require.
 */
import fs = require("node:fs");
import os = require("node:os");
import path = require("node:path");
import vm = require("node:vm");
import nodeModule = require("node:module");

let loaded: { script: vm.Script; cacheFile: string; fresh: boolean } | undefined;
let state: "used" | "compiled" | "off" = "off";

function cacheDir(): string {
  if (process.env.TSPOOL_CACHE_DIR) return process.env.TSPOOL_CACHE_DIR;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "tspool");
}

export function loadTypeScript(): void {
  if (loaded || process.env.TSPOOL_NO_CODE_CACHE === "1") return;
  try {
    const filename = require.resolve("typescript");
    if (require.cache[filename]) return;
    const version = (JSON.parse(fs.readFileSync(path.join(path.dirname(filename), "..", "package.json"), "utf8")) as { version: string }).version;
    const cacheFile = path.join(cacheDir(), `typescript-${version}-node${process.version}-${process.arch}.v8cache`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
    const source = fs.readFileSync(filename, "utf8");
    const script = new vm.Script(nodeModule.wrap(source), { filename, cachedData });
    const mod = new nodeModule.Module(filename) as NodeJS.Module & { paths: string[]; loaded: boolean };
    mod.filename = filename;
    mod.paths = (nodeModule as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    wrapper.call(mod.exports, mod.exports, nodeModule.createRequire(filename), mod, filename, path.dirname(filename));
    mod.loaded = true;
    require.cache[filename] = mod;
    loaded = { script, cacheFile, fresh: !cachedData || script.cachedDataRejected === true };
    state = loaded.fresh ? "compiled" : "used";
  } catch {
    loaded = undefined; // a plain require follows
  }
}

/** How typescript.js was loaded: from the code cache, compiled (a cache is to be written), or plainly. */
export function typeScriptCodeCacheState(): "used" | "compiled" | "off" {
  return state;
}

export function saveTypeScriptCodeCache(): void {
  if (!loaded?.fresh) return;
  const { script, cacheFile } = loaded;
  loaded.fresh = false;
  try {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, cacheFile);
  } catch {
    // no cache this time; TypeScript still loads, only slower
  }
}
