import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import {
  HANDLE, decodeHandles, encodeHandles, registerHandleKind, serveHandleCall, Lock, Queue, Value,
} from "../../dist/farm/index.js";
import { exposedHandleCount, type HandleDescriptor } from "../../dist/farm/handles.js";

const MARKER = "__tspool_handle__";

describe("handles", () => {
  it("encodes handles anywhere in arrays, objects, Maps and Sets into plain markers, and decodes them to the same objects", () => {
    const lock = new Lock();
    const q = new Queue();
    const value = { list: [1, lock, { deep: q }], map: new Map([["l", lock]]), set: new Set([q]), n: 5 };
    const encoded = encodeHandles(value) as Record<string, any>;
    expect(encoded.list[1][MARKER]).toMatchObject({ kind: "Lock" });
    expect(encoded.list[2].deep[MARKER]).toMatchObject({ kind: "Queue" });
    expect(encoded.map.get("l")[MARKER].kind).toBe("Lock");
    // what crosses a process boundary is plain data: it survives JSON
    const wire = JSON.parse(JSON.stringify({ list: encoded.list }));
    const decoded = decodeHandles(wire, null) as { list: unknown[] };
    expect(decoded.list[1]).toBe(lock);
    expect((decoded.list[2] as { deep: unknown }).deep).toBe(q);
    const back = decodeHandles(encoded, null) as typeof value;
    expect(back.map.get("l")).toBe(lock);
    expect([...back.set][0]).toBe(q);
  });

  it("leaves values without handles untouched (no copies), and handles cycles", () => {
    const plain = { a: [1, 2, 3], t: new Float64Array(4) };
    expect(encodeHandles(plain)).toBe(plain);
    expect(decodeHandles(plain, null)).toBe(plain);
    const cyclic: Record<string, unknown> = { lock: new Lock() };
    cyclic.self = cyclic;
    const enc = encodeHandles(cyclic) as Record<string, unknown>;
    expect(enc.self).toBe(enc);
  });

  it("keeps shared memory out of descriptors unless asked (v8 serialization between processes cannot carry it)", () => {
    const v = new Value("i32", 1);
    const forProcess = encodeHandles(v) as Record<string, HandleDescriptor>;
    expect(forProcess[MARKER]!.sab).toBeUndefined();
    const forThread = encodeHandles(v, { sharedMemory: true }) as Record<string, HandleDescriptor>;
    expect(forThread[MARKER]!.sab).toBeInstanceOf(SharedArrayBuffer);
    // nested handles in extra (a Value's lock) follow the same rule
    const extra = forThread[MARKER]!.extra as { lock: Record<string, HandleDescriptor> };
    expect(extra.lock[MARKER]!.sab).toBeInstanceOf(SharedArrayBuffer);
  });

  it("a primitive is only kept for workers once it was actually sent", () => {
    const before = exposedHandleCount();
    const local = new Lock();
    expect(exposedHandleCount()).toBe(before);
    encodeHandles(local);
    expect(exposedHandleCount()).toBe(before + 1);
    local.unshare();
    expect(exposedHandleCount()).toBe(before);
  });

  it("serveHandleCall runs the method for a worker, and explains unknown ids, wrong kinds and methods", async () => {
    const v = new Value("i32", 10);
    const { id } = v[HANDLE]();
    expect(await serveHandleCall("Value", id, "add", [5], { workerId: 0 })).toBe(15);
    await expect(serveHandleCall("Value", 987654, "get", [], { workerId: 0 })).rejects.toThrow(/no Value with handle id 987654 is served here/);
    await expect(serveHandleCall("Lock", id, "acquire", [null], { workerId: 0 })).rejects.toThrow(/is a Value, not a Lock/);
    await expect(serveHandleCall("Value", id, "explode", [], { workerId: 0 })).rejects.toThrow(/Value has no remote operation "explode"/);
  });

  it("a blocking call made for a worker that goes away is withdrawn: the lock is not taken for it", async () => {
    const lock = new Lock();
    await lock.acquire();
    const { id } = lock[HANDLE]();
    const gone = new AbortController();
    const pending = serveHandleCall("Lock", id, "acquire", [null], { workerId: 0, signal: gone.signal });
    gone.abort(new Error("worker 0 exited"));
    await expect(pending).rejects.toThrow("worker 0 exited");
    await lock.release();
    expect(await lock.locked()).toBe(false);
  });

  it("setAbortSource ties waits to the host's unit of work: aborting it withdraws the wait", async () => {
    const { setAbortSource } = await import("../../dist/farm/sync/index.js");
    const lock = new Lock();
    const q = new Queue<number>();
    await lock.acquire();
    const cell = new AbortController();
    setAbortSource(() => cell.signal);
    try {
      const waiting = lock.acquire();
      const getting = q.get();
      cell.abort(new Error("cell interrupted"));
      await expect(waiting).rejects.toThrow("cell interrupted");
      await expect(getting).rejects.toThrow("cell interrupted");
    } finally {
      setAbortSource(null);
    }
    await lock.release();
    await q.put(7);
    expect(await lock.locked()).toBe(false);
    expect(await q.get({ timeout: 0 })).toBe(7);
  });

  it("refuses descriptors of unknown kinds; a primitive from a worker process's memory decodes but every use explains", async () => {
    expect(() => decodeHandles({ [MARKER]: { kind: "Nope", id: 1, origin: "elsewhere" } }, null)).toThrow(/unknown kind "Nope"/);
    const q = decodeHandles({ [MARKER]: { kind: "Queue", id: 1, origin: "elsewhere", extra: { maxsize: 0 } } }, null) as Queue;
    await expect(q.put(1)).rejects.toThrow(/created inside a worker and can only be used in that worker; create Queues in the main program/);
  });

  it("custom kinds can be registered", () => {
    class Token { constructor(readonly name: string) {} [HANDLE]() { return { kind: "test.Token", id: 1, origin: "x", extra: this.name }; } }
    registerHandleKind("test.Token", (d) => new Token(`revived ${String(d.extra)}`));
    const out = decodeHandles(encodeHandles([new Token("t")]), null) as Token[];
    expect(out[0]).toBeInstanceOf(Token);
    expect(out[0]!.name).toBe("revived t");
  });

  it("a thread given the memory works on the same Atomics state as the parent without any calls", async () => {
    const v = new Value("i32", 0);
    const encoded = encodeHandles(v, { sharedMemory: true });
    const url = new URL("../../dist/farm/sync/index.js", import.meta.url).href;
    const handlesUrl = new URL("../../dist/farm/handles.js", import.meta.url).href;
    const w = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads");
       (async () => {
         await import(${JSON.stringify(url)});
         const { decodeHandles } = await import(${JSON.stringify(handlesUrl)});
         const env = { isThread: true, workerId: 0, call: () => Promise.reject(new Error("unexpected call")) };
         const v = decodeHandles(workerData, env);
         for (let i = 0; i < 1000; i++) await v.add(1);
         parentPort.postMessage(v.isRemote);
       })();`,
      { eval: true, workerData: encoded },
    );
    const remote = await new Promise((resolve, reject) => { w.once("message", resolve); w.once("error", reject); });
    await w.terminate();
    expect(remote).toBe(false);
    expect(v.value).toBe(1000);
  });
});
