/**
 * Finding and restoring instances of classes inside plain data. Structured clone copies an
 * object's own fields but not its prototype; these two functions let the receiver put the
 * prototypes back. Both are self-contained (no imports, no outer names) because they are also
 * shipped to workers as source (see class-instances.ts).
 */

/** Where an instance sits (keys and indices from the value's root) and its class's name. */
export type InstancePath = [path: (string | number)[], className: string];

/**
 * The objects inside `root` (root included, at path []) that are instances of a class `classOf`
 * names, through arrays, plain objects and such instances' own fields; shared objects once.
 * Self-contained, because it also runs on the workers (shipped as its source).
 */
export function instancePaths(root: unknown, classOf: (ctor: Function) => string | undefined): InstancePath[] {
  const found: InstancePath[] = [];
  if (root === null || typeof root !== "object") return found;
  const seen = new Set<object>();
  const stack: [object, (string | number)[]][] = [[root, []]];
  while (stack.length > 0) {
    const [obj, path] = stack.pop()!;
    if (seen.has(obj)) continue;
    seen.add(obj);
    const isArray = Array.isArray(obj);
    const proto = Object.getPrototypeOf(obj);
    let walk = isArray || proto === Object.prototype || proto === null;
    if (!walk && typeof proto.constructor === "function" && proto.constructor.prototype === proto) {
      const name = classOf(proto.constructor);
      if (name !== undefined) {
        found.push([path, name]);
        walk = true;
      }
    }
    if (!walk) continue;
    if (isArray) {
      const arr = obj as unknown[];
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (v !== null && typeof v === "object") stack.push([v, [...path, i]]);
      }
    } else {
      for (const k of Object.keys(obj)) {
        const v = (obj as Record<string, unknown>)[k];
        if (v !== null && typeof v === "object") stack.push([v, [...path, k]]);
      }
    }
  }
  return found;
}

/** Gives the objects at `paths` inside `root` the prototype of the class `classFor` returns (if any). */
export function restoreInstances(root: unknown, paths: InstancePath[], classFor: (name: string) => unknown): void {
  for (const [path, name] of paths) {
    const cls = classFor(name);
    if (typeof cls !== "function") continue;
    let o = root as Record<string | number, unknown>;
    for (const k of path) o = o[k] as Record<string | number, unknown>;
    Object.setPrototypeOf(o, cls.prototype);
  }
}
