/**
 * `--retries R` for one `%%pool map`: how often a task whose worker died is tried again. The
 * farm's Pool takes `retries` as a pool-wide option only (read when a worker dies), so this sets
 * it for the duration of the call and restores it afterwards. Other calls running on the notebook
 * pool at the same moment see the same value.
 */
import type { Pool } from "../farm/pool.js";

interface WithRetriesOption { opts?: { retries?: number } }

export async function withCallRetries<T>(farm: Pool, retries: number | undefined, run: () => Promise<T>): Promise<T> {
  const holder = (farm as unknown as WithRetriesOption).opts;
  if (retries === undefined || !holder) return run();
  const before = holder.retries;
  holder.retries = retries;
  try {
    return await run();
  } finally {
    holder.retries = before;
  }
}
