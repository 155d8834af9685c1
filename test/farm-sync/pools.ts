/**
 * Shared set-up for the farm-sync suites: one real Pool of 2 process workers and one of 2 thread
 * workers per test file, plus helpers to force interleavings.
 */
import { afterAll, beforeAll } from "vitest";
import { Pool } from "../../dist/farm/index.js";

export const kinds = [
  { name: "process workers", threads: false },
  { name: "thread workers", threads: true },
] as const;

export type Kind = (typeof kinds)[number];

/** Starts both pools before the file's tests and terminates them after. */
export function usePools(workers = 2): (kind: Kind) => Pool {
  const pools = new Map<boolean, Pool>();
  beforeAll(async () => {
    for (const k of kinds) {
      const pool = new Pool({ workers, threads: k.threads });
      pools.set(k.threads, pool);
      await pool.run(() => 0); // every worker up
    }
  });
  afterAll(async () => {
    for (const pool of pools.values()) await pool.terminate();
  });
  return (kind) => pools.get(kind.threads)!;
}

/** `promise`, or a rejection saying what hung when it has not settled after `ms` (instead of hanging the suite). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (hangs)`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
