/**
 * Helpers that bundlers and transpilers put at the top of a file and then call from inside
 * functions. A task function travels as its own source, without that top: esbuild with
 * keepNames (what tsx and many build set-ups use) turns `function sq() {}` inside a task into
 * `function sq() {} __name(sq, "sq")`, which would fail in a worker with "__name is not
 * defined". The worker defines such helpers globally, unless something already did.
 */
export function installBundlerHelpers(): void {
  const helpers: Record<string, unknown> = {
    // esbuild's keepNames: gives a function or class the name it had in the source
    __name: (target: object, value: string) => Object.defineProperty(target, "name", { value, configurable: true }),
  };
  for (const [name, value] of Object.entries(helpers)) {
    if (name in globalThis) continue;
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
}
