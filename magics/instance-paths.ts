/**
 * Finding and restoring instances of classes inside plain data. Structured clone copies an
 * object's own fields (and a Map's or Set's entries) but not its prototype; these functions let
 * the receiver put the prototypes back. `instancePaths` and `restoreInstances` are self-contained
 * (no imports, no outer names) because they are also shipped to workers as source (see
 * class-instances.ts and capture.ts).
 */

/**
 * One step from a container to what it holds: a key of a plain object or instance, an index of
 * an array, `[i]` for the i-th element of a Set, `[i, 0]` / `[i, 1]` for the key / value of a
 * Map's i-th entry (insertion order, which structured clone keeps).
 */
export type PathStep = string | number | [number] | [number, 0 | 1];

/** Where an instance sits (steps from the value's root) and its class's name. */
export type InstancePath = [path: PathStep[], className: string];

/**
 * The objects inside `root` (root included, at path []) that are instances of a class `classOf`
 * names, through arrays, plain objects, Maps, Sets and such instances' own fields; shared objects
 * once. Self-contained, because it also runs on the workers (shipped as its source).
 */
export function instancePaths(root: unknown, classOf: (ctor: Function) => string | undefined): InstancePath[] {
  const found: InstancePath[] = [];
  if (root === null || typeof root !== "object") return found;
  const seen = new Set<object>();
  const stack: [object, PathStep[]][] = [[root, []]];
  const push = (v: unknown, path: PathStep[]) => {
    if (v !== null && typeof v === "object") stack.push([v, path]);
  };
  while (stack.length > 0) {
    const [obj, path] = stack.pop()!;
    if (seen.has(obj)) continue;
    seen.add(obj);
    const proto = Object.getPrototypeOf(obj);
    let walk = Array.isArray(obj) || proto === Object.prototype || proto === null || proto === Map.prototype || proto === Set.prototype;
    if (!walk && typeof proto.constructor === "function" && proto.constructor.prototype === proto) {
      const name = classOf(proto.constructor);
      if (name !== undefined) {
        found.push([path, name]);
        walk = true;
      }
    }
    if (!walk) continue;
    if (Array.isArray(obj)) {
      // (a path is made only for an element that is an object: arrays of numbers cost one pass)
      for (let i = 0; i < obj.length; i++) {
        const v = obj[i];
        if (v !== null && typeof v === "object") stack.push([v, [...path, i]]);
      }
    } else if (obj instanceof Map) {
      let i = 0;
      for (const [k, v] of obj) {
        push(k, [...path, [i, 0]]);
        push(v, [...path, [i, 1]]);
        i++;
      }
    } else if (obj instanceof Set) {
      let i = 0;
      for (const v of obj) push(v, [...path, [i++]]);
    } else {
      for (const k of Object.keys(obj)) push((obj as Record<string, unknown>)[k], [...path, k]);
    }
  }
  return found;
}

/**
 * Gives the objects at `paths` inside `root` the prototype of the class `classFor` returns (left
 * as they are when it returns no class), and returns those objects in the order of `paths`.
 * Self-contained, because it also runs on the workers (shipped as its source).
 */
export function restoreInstances(root: unknown, paths: InstancePath[], classFor: (name: string) => unknown): object[] {
  const listed = new Map<object, unknown[]>(); // a Map's entries or a Set's elements, listed once
  const out: object[] = [];
  for (const [path, name] of paths) {
    let o = root as any;
    for (const step of path) {
      if (!Array.isArray(step)) {
        o = o[step];
        continue;
      }
      let items = listed.get(o);
      if (items === undefined) listed.set(o, (items = [...o]));
      o = step.length === 2 ? (items[step[0]] as unknown[])[step[1]] : items[step[0]];
    }
    const cls = classFor(name);
    if (typeof cls === "function") Object.setPrototypeOf(o, cls.prototype);
    out.push(o);
  }
  return out;
}

/** The objects at `paths` inside `root`, unchanged. */
export function objectsAt(root: unknown, paths: InstancePath[]): object[] {
  return restoreInstances(root, paths, () => undefined);
}
