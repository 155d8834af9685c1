/**
 * A dependency value as it is when a call is made: its content key (value-digest.ts), and its
 * bytes (v8 serialization) taken at the same moment. Workers get those bytes, whenever they need
 * them (a worker that joins or replaces another later gets the same snapshot), keep them, and
 * install a fresh copy for each call, so that neither a later change in the parent nor what
 * earlier tasks did to their copy changes what a call sees.
 *
 * Values holding farm handles (locks, queues, shared arrays, ...) or shared memory are not
 * snapshots: they refer to shared state by design, and travel as they are, encoded for each worker
 * (threads get the shared memory itself).
 *
 * The bytes of the latest snapshot of each object are kept by content key (up to RECENT_BYTES, and
 * only while the object they were taken of is alive), so that calling again with unchanged data
 * costs its digest only, not serializing it again. An object's earlier snapshots are let go: a
 * loop that changes a dependency between calls would otherwise keep one per call.
 */
import { randomUUID } from "node:crypto";
import { serialize } from "node:v8";
import { encodeHandles } from "./handles.js";
import { digestValue } from "./value-digest.js";

export interface ValueSnapshot {
  /** Content key: equal content, equal key (a value that cannot be digested gets a key of its own). */
  key: string;
  /** The value's bytes, or undefined for a value that travels as it is (handles, shared memory, not serializable). */
  bytes?: Uint8Array;
}

const RECENT_BYTES = 256 * 1024 * 1024;
/** Bytes of recent snapshots by content key, least recently used first, with the object each was taken of. */
const recent = new Map<string, { bytes: Uint8Array; of: WeakRef<object> }>();
let recentBytes = 0;

function forget(key: string): void {
  const r = recent.get(key);
  if (r === undefined) return;
  recent.delete(key);
  recentBytes -= r.bytes.byteLength;
}

/** The key of each object's latest snapshot (one record per object, registered once below). */
const latest = new WeakMap<object, { key: string }>();
/** Lets go of an object's latest snapshot once the object is collected. */
const collected = new FinalizationRegistry<{ key: string }>(({ key }) => {
  if (recent.get(key)?.of.deref() === undefined) forget(key);
});

function remember(key: string, bytes: Uint8Array, of: object): void {
  const mine = latest.get(of);
  if (mine === undefined) {
    const record = { key };
    latest.set(of, record);
    collected.register(of, record);
  } else if (mine.key !== key) {
    if (recent.get(mine.key)?.of.deref() === of) forget(mine.key);
    mine.key = key;
  }
  recent.set(key, { bytes, of: new WeakRef(of) });
  recentBytes += bytes.byteLength;
  for (const k of recent.keys()) {
    if (recentBytes <= RECENT_BYTES) break;
    forget(k);
  }
}

function recalled(key: string): Uint8Array | undefined {
  const r = recent.get(key);
  if (r === undefined) return undefined;
  forget(key);
  if (r.of.deref() === undefined) return undefined;
  recent.set(key, r); // now the most recently used
  recentBytes += r.bytes.byteLength;
  return r.bytes;
}

export function snapshotValue(value: unknown): ValueSnapshot {
  const encoded = encodeHandles(value);
  let key: string;
  try {
    key = digestValue(encoded);
  } catch {
    return { key: randomUUID() }; // shared memory (or something else that cannot be digested): always sent as it is
  }
  if (encoded !== value) return { key }; // handles: references to shared state
  const known = recalled(key);
  if (known !== undefined) return { key, bytes: known };
  let bytes: Uint8Array;
  try {
    bytes = serialize(value);
  } catch {
    return { key }; // not serializable: sending it reports why, as for any argument
  }
  if (value !== null && typeof value === "object") remember(key, bytes, value);
  return { key, bytes };
}
