/**
 * The variables a function value closes over, read from V8's own record of its scope chain
 * (`[[Scopes]]`, as debuggers show it) through an inspector session in this thread. Calls of a
 * session connected to its own thread complete synchronously, so this works in the middle of a
 * cell. A function's source text cannot tell a variable of the function that made it from a
 * global of the same name (`function makeAdder(n) { return (x) => x + n }` next to a notebook
 * `const n`); its scope chain can.
 *
 * Only the names asked about are looked up (a function's free names: a closure scope lists every
 * variable its inner functions use, not just this function's), and the global and script scopes
 * (what every cell sees) are never listed. What each function's chain binds is cached by
 * function; the values of those bindings are read again each time, as closures can change them.
 */
import { Session } from "node:inspector";

/** How V8 describes a scope of the chain ("Closure (makeAdder)", "Block", "Module", "Catch", ...). */
export interface ScopeVariable {
  name: string;
  /** The kind of scope, lower case: "closure", "block", "module", "catch", "with", "eval", "local", ... */
  scope: string;
  /** The function whose scope it is, when V8 names one (`makeAdder` for "Closure (makeAdder)"). */
  owner?: string;
  /** Its current value. */
  value: unknown;
}

interface RemoteObject {
  type: string;
  subtype?: string;
  description?: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
}
interface PropertyDescriptor { name: string; value?: RemoteObject }
interface Properties { result: PropertyDescriptor[]; internalProperties?: PropertyDescriptor[] }

const GROUP = "tspool-function-scopes";
const PROBE = Symbol.for("tspool.scopeProbe");
const SHARED_SCOPES = new Set(["global", "script"]);

let session: Session | null | undefined;

function connected(): Session | null {
  if (session !== undefined) return session;
  try {
    const s = new Session();
    s.connect();
    session = s;
  } catch {
    session = null; // a Node built without the inspector
  }
  return session;
}

function post<T>(s: Session, method: string, params: object): T {
  let out: T | undefined;
  let failure: Error | null = null;
  let answered = false;
  s.post(method, params, (err, result) => {
    failure = err;
    out = result as T;
    answered = true;
  });
  if (!answered) throw new Error(`internal: the inspector answered ${method} asynchronously`);
  if (failure) throw failure;
  return out as T;
}

/** Where each asked-for name is bound along a function's chain: the index of the scope, with its kind and owner. */
type Bound = { name: string; index: number; scope: string; owner?: string }[];

/** Per function: the names asked about (joined) and where the chain binds them. */
const chains = new WeakMap<Function, { names: string; bound: Bound }>();

/**
 * The variables among `names` that `fn` finds in a scope of its own chain other than the global
 * and script scopes (the first binding of each name, as the function itself would find it), with
 * their current values; undefined when the inspector is not available.
 */
export function scopeVariables(fn: Function, names: readonly string[]): ScopeVariable[] | undefined {
  const key = names.join("\n");
  const known = chains.get(fn);
  if (known && known.names === key && known.bound.length === 0) return [];
  const s = connected();
  if (!s) return undefined;
  const holder = globalThis as Record<symbol, unknown>;
  holder[PROBE] = fn;
  try {
    const { result } = post<{ result: RemoteObject }>(s, "Runtime.evaluate", {
      expression: `globalThis[Symbol.for(${JSON.stringify(PROBE.description)})]`, objectGroup: GROUP,
    });
    if (!result.objectId) return undefined;
    const scopes = scopeList(s, result.objectId);
    let bound = known && known.names === key ? known.bound : undefined;
    const values = new Map<string, RemoteObject>();
    if (!bound) {
      bound = [];
      const wanted = new Set(names);
      scopes.forEach((scope, index) => {
        if (SHARED_SCOPES.has(scope.kind) || wanted.size === 0) return;
        for (const p of variablesOf(s, scope.objectId)) {
          if (!wanted.delete(p.name)) continue;
          bound!.push({ name: p.name, index, scope: scope.kind, owner: scope.owner });
          if (p.value) values.set(p.name, p.value);
        }
      });
      chains.set(fn, { names: key, bound });
    } else {
      const byScope = new Map<number, string[]>();
      for (const b of bound) byScope.set(b.index, [...(byScope.get(b.index) ?? []), b.name]);
      for (const [index, wanted] of byScope) {
        for (const p of variablesOf(s, scopes[index]!.objectId)) if (wanted.includes(p.name) && p.value) values.set(p.name, p.value);
      }
    }
    return bound.map((b) => ({ name: b.name, scope: b.scope, owner: b.owner, value: valueOf(s, result.objectId!, values.get(b.name)) }));
  } finally {
    delete holder[PROBE];
    post(s, "Runtime.releaseObjectGroup", { objectGroup: GROUP });
  }
}

/** The scopes of a function's chain, innermost first. */
function scopeList(s: Session, fnId: string): { kind: string; owner?: string; objectId: string }[] {
  const own = post<Properties>(s, "Runtime.getProperties", { objectId: fnId, ownProperties: true });
  const chain = own.internalProperties?.find((p) => p.name === "[[Scopes]]")?.value?.objectId;
  if (!chain) return [];
  const out: { kind: string; owner?: string; objectId: string }[] = [];
  for (const p of post<Properties>(s, "Runtime.getProperties", { objectId: chain, ownProperties: true }).result) {
    if (!/^\d+$/.test(p.name) || !p.value?.objectId) continue;
    const m = /^(\w+)(?: \((.*)\))?$/.exec(p.value.description ?? "");
    out[Number(p.name)] = { kind: (m?.[1] ?? "unknown").toLowerCase(), owner: m?.[2] || undefined, objectId: p.value.objectId };
  }
  return out;
}

function variablesOf(s: Session, scopeId: string): PropertyDescriptor[] {
  return post<Properties>(s, "Runtime.getProperties", { objectId: scopeId, ownProperties: true }).result;
}

/** The value a remote object stands for, brought over by handing it to a function as an argument. */
function valueOf(s: Session, anyObjectId: string, remote: RemoteObject | undefined): unknown {
  if (!remote || remote.type === "undefined") return undefined;
  const arg = remote.objectId !== undefined ? { objectId: remote.objectId }
    : remote.unserializableValue !== undefined ? { unserializableValue: remote.unserializableValue }
      : { value: remote.value };
  const holder = globalThis as Record<symbol, unknown>;
  post(s, "Runtime.callFunctionOn", {
    objectId: anyObjectId, objectGroup: GROUP, arguments: [arg],
    functionDeclaration: `function (v) { globalThis[Symbol.for(${JSON.stringify(PROBE.description)})] = v; }`,
  });
  const value = holder[PROBE];
  delete holder[PROBE];
  return value;
}
